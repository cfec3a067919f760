"""Full-text search over tickets: SQLite FTS5 or PostgreSQL tsvector, one document a ticket.

The document holds the ticket number, subject, description, every comment and every
email body of the ticket; `reindex_ticket` rebuilds it after a write. A query is split
into words, and every word must match (as a prefix): the same meaning on both databases.
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import ColumnElement, Integer, select, text
from sqlalchemy.orm import Session

from hubdesk.tickets.models import Comment, EmailLog, Ticket

_WORD: Final = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS: Final = 16


def query_words(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query)][:MAX_QUERY_WORDS]


def ticket_document(session: Session, ticket: Ticket) -> str:
    parts = [ticket.ticket_number, ticket.subject, ticket.description]
    parts.extend(
        session.scalars(
            select(Comment.body).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
        )
    )
    parts.extend(
        session.scalars(
            select(EmailLog.body_text).where(EmailLog.ticket_id == ticket.id).order_by(EmailLog.id)
        )
    )
    return "\n".join(p for p in parts if p)


def reindex_ticket(session: Session, ticket: Ticket) -> None:
    """Rebuild the ticket's search document (writes the search table)."""
    _store(session, ticket, ticket_document(session, ticket))


def index_new_ticket(session: Session, ticket: Ticket, email_body: str | None) -> None:
    """The document of a ticket just opened from one email, built from memory (no comments
    yet, one email body): the same text `ticket_document` would read back, without the
    two queries (the ingest hot path)."""
    parts = [ticket.ticket_number, ticket.subject, ticket.description, email_body]
    _store(session, ticket, "\n".join(p for p in parts if p))


def _store(session: Session, ticket: Ticket, document: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "INSERT INTO tticket_search (ticket_id, document) VALUES (:id, :doc) "
                "ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document"
            ),
            {"id": ticket.id, "doc": document},
        )
        return
    session.execute(text("DELETE FROM tticket_search WHERE rowid = :id"), {"id": ticket.id})
    session.execute(
        text("INSERT INTO tticket_search (rowid, document) VALUES (:id, :doc)"),
        {"id": ticket.id, "doc": document},
    )


def matches(session: Session, query: str) -> ColumnElement[bool]:
    """A WHERE clause on `Ticket.id` for tickets whose document matches every word."""
    words = query_words(query)
    if not words:
        return Ticket.id.is_not(None)
    if session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        ids = text(
            "SELECT ticket_id FROM tticket_search WHERE tsv @@ to_tsquery('simple', :tsq)"
        ).bindparams(tsq=tsquery)
    else:
        fts = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
        ids = text(
            "SELECT rowid AS ticket_id FROM tticket_search WHERE tticket_search MATCH :fts"
        ).bindparams(fts=fts)
    return Ticket.id.in_(ids.columns(ticket_id=Integer))
