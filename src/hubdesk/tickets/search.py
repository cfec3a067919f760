"""Full-text search over tickets: SQLite FTS5 or PostgreSQL tsvector, one document a ticket.

The document holds the ticket number, subject, description, every comment and every
email body of the ticket; `reindex_ticket` rebuilds it after a write. A query is split
into words, and every word must match (as a prefix): the same meaning on both databases.

Indexing is bounded (`hubdesk.budgets`): each text counts with its first
`MAX_INDEXED_PART_CHARS` characters (cut in SQL, so a long row is never loaded whole) and the
document stops at `MAX_INDEXED_DOCUMENT_CHARS`. Words further into a very long mail are not
found by search; the mail itself is kept whole.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from typing import Any, Final, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from hubdesk.budgets import MAX_INDEXED_DOCUMENT_CHARS, MAX_INDEXED_PART_CHARS
from hubdesk.db import deferred
from hubdesk.tickets.models import Comment, EmailLog, Ticket

_WORD: Final = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS: Final = 16


def query_words(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query)][:MAX_QUERY_WORDS]


def ticket_document(session: Session, ticket: Ticket) -> str:
    """The ticket's text for the index, at most `MAX_INDEXED_DOCUMENT_CHARS` long."""
    head = (ticket.ticket_number, ticket.subject, ticket.description)
    parts = [p[:MAX_INDEXED_PART_CHARS] for p in head if p]
    session.flush()  # the texts are read below on the connection, past the ORM
    texts = session.connection().execute(_TEXTS, {"ticket_id": ticket.id}).scalars()
    parts.extend(texts)
    return "\n".join(p for p in parts if p)[:MAX_INDEXED_DOCUMENT_CHARS]


def _texts_of_a_ticket() -> Select[Any]:
    """Every comment's, then every email's text of one ticket, in one statement (built
    once: the ingest of a reply runs it)."""
    ticket_id = bindparam("ticket_id", type_=Integer)
    comments = select(
        literal(0).label("kind"),
        Comment.id.label("id"),
        func.substr(Comment.body, 1, MAX_INDEXED_PART_CHARS).label("text"),
    ).where(Comment.ticket_id == ticket_id)
    emails = select(
        literal(1).label("kind"),
        EmailLog.id.label("id"),
        func.substr(EmailLog.body_text, 1, MAX_INDEXED_PART_CHARS).label("text"),
    ).where(EmailLog.ticket_id == ticket_id)
    both = union_all(comments, emails).subquery()
    return select(both.c.text).order_by(both.c.kind, both.c.id)


_TEXTS: Final = _texts_of_a_ticket()


def _documents_of(session: Session, ticket_ids: list[int]) -> dict[Hashable, str]:
    """`ticket_document` of many tickets with two statements per 500 (the bulk batch's end;
    the session is flushed, so every row the batch wrote is read)."""
    found: dict[Hashable, str] = {}
    connection = session.connection()
    for start in range(0, len(ticket_ids), _READ_CHUNK):
        chunk = ticket_ids[start : start + _READ_CHUNK]
        parts: dict[int, list[str]] = {}
        for row in connection.execute(_HEADS, {"ids": chunk}):
            head = (row.ticket_number, row.subject, row.description)
            parts[row.id] = [p[:MAX_INDEXED_PART_CHARS] for p in head if p]
        for ticket_id, text_ in connection.execute(_MANY_TEXTS, {"ids": chunk}):
            if text_ and ticket_id in parts:
                parts[ticket_id].append(text_)
        for ticket_id, texts in parts.items():
            found[ticket_id] = "\n".join(texts)[:MAX_INDEXED_DOCUMENT_CHARS]
    return found


def _texts_of_tickets() -> tuple[Select[Any], Select[Any]]:
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    heads = select(
        Ticket.id,
        Ticket.ticket_number,
        Ticket.subject,
        func.substr(Ticket.description, 1, MAX_INDEXED_PART_CHARS).label("description"),
    ).where(Ticket.id.in_(ids))
    comments = select(
        Comment.ticket_id.label("ticket_id"),
        literal(0).label("kind"),
        Comment.id.label("id"),
        func.substr(Comment.body, 1, MAX_INDEXED_PART_CHARS).label("text"),
    ).where(Comment.ticket_id.in_(ids))
    emails = select(
        EmailLog.ticket_id.label("ticket_id"),
        literal(1).label("kind"),
        EmailLog.id.label("id"),
        func.substr(EmailLog.body_text, 1, MAX_INDEXED_PART_CHARS).label("text"),
    ).where(EmailLog.ticket_id.in_(ids))
    both = union_all(comments, emails).subquery()
    texts = select(both.c.ticket_id, both.c.text).order_by(both.c.ticket_id, both.c.kind, both.c.id)
    return heads, texts


_HEADS, _MANY_TEXTS = _texts_of_tickets()


def reindex_ticket(session: Session, ticket: Ticket) -> None:
    """Rebuild the ticket's search document (writes the search table). In a bulk batch the
    document is read at the batch's end, once for all the tickets it touched."""
    if not deferred.put(session, "search", ticket.id, _REREAD, _write_documents):
        _write_documents(session, {ticket.id: ticket_document(session, ticket)})


def index_new_ticket(session: Session, ticket: Ticket, email_body: str | None) -> None:
    """The document of a ticket just opened from one email, built from memory (no comments
    yet, one email body): the same text `ticket_document` would read back, without the
    two queries (the ingest hot path)."""
    parts = [ticket.ticket_number, ticket.subject, ticket.description, email_body]
    _store(session, ticket, "\n".join(p for p in parts if p))


def _store(session: Session, ticket: Ticket, document: str) -> None:
    """Write the document now, or (in a bulk batch) keep the latest one per ticket and
    write the batch's documents together right before its commit."""
    if not deferred.put(session, "search", ticket.id, document, _write_documents):
        _write_documents(session, {ticket.id: document})


class _Reread:
    """A document to read from the database when the batch's documents are written."""


_REREAD: Final = _Reread()
_READ_CHUNK: Final = 500


def _write_documents(session: Session, documents: Mapping[Hashable, str | _Reread]) -> None:
    reread = [int(cast(int, key)) for key, value in documents.items() if value is _REREAD]
    read = _documents_of(session, reread)
    rows = [
        {"id": ticket_id, "doc": read[ticket_id] if document is _REREAD else document}
        for ticket_id, document in documents.items()
        if document is not _REREAD or ticket_id in read  # a ticket gone has no document
    ]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "INSERT INTO tticket_search (ticket_id, document) VALUES (:id, :doc) "
                "ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document"
            ),
            rows,
        )
        return
    # FTS5 replaces a row with the same rowid (reading the old document to take its words
    # out of the index) and inserts the others: one statement, and no DELETE looking for
    # the document of a ticket the batch opened (half of the ingest's search writes).
    session.execute(
        text("INSERT OR REPLACE INTO tticket_search (rowid, document) VALUES (:id, :doc)"), rows
    )


def matches(
    session: Session, query: str, *, ordered: bool = True, whole: bool = False
) -> ColumnElement[bool]:
    """A WHERE clause on `Ticket.id` for tickets whose document matches every word.
    `ordered=False`: for a statement that needs no order (a count), on SQLite always driven
    from the matches. `whole=True` (SQLite, see `common_whole_words`): every word whole,
    not as a prefix, so a subset of the default's tickets, which FTS5 reads lazily."""
    words = query_words(query)
    if not words:
        return Ticket.id.is_not(None)
    if session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        ids = text(
            "SELECT ticket_id FROM tticket_search WHERE tsv @@ to_tsquery('simple', :tsq)"
        ).bindparams(tsq=tsquery)
    else:
        star = "" if whole else "*"
        fts = " ".join('"' + w.replace('"', '""') + '"' + star for w in words)
        ids = text(
            "SELECT rowid AS ticket_id FROM tticket_search WHERE tticket_search MATCH :fts"
        ).bindparams(fts=fts)
        if ordered and _common_on_sqlite(session, words):
            # `id + 0` is not the rowid, so SQLite cannot drive the query from the matches
            # (look up each of them, then sort them all): it reads the tickets in the list's
            # order and checks each against the matches, and stops after a page.
            return (Ticket.id + 0).in_(ids.columns(ticket_id=Integer))
    return Ticket.id.in_(ids.columns(ticket_id=Integer))


def common_whole_words(session: Session, query: str) -> bool:
    """Whether a bounded count of `query` may first count its whole-word matches (SQLite,
    a query common as whole words): when those alone pass the bound, the prefix matches
    (a superset) do too, and the count is answered without FTS5 merging every word each
    prefix stands for before its first row (`printer*` at 1M mails: 55-108 ms a count;
    bench/README.md, "At scale"). Otherwise the count is of the prefix matches, as always."""
    if session.get_bind().dialect.name == "postgresql":
        return False
    words = query_words(query)
    return bool(words) and _common_on_sqlite(session, words)


COMMON_MATCHES: Final = 2_000
"""A query matching at least this many tickets is "common" on SQLite (see `matches`): below
it, reading the matches and sorting them is cheaper than reading the list in order until a
page of them is found; above it (`printer` in 177,000 of 480,000 tickets) the other way
round. PostgreSQL's planner makes this choice itself from its statistics."""


_PROBE: Final = text(
    "SELECT count(*) FROM (SELECT rowid FROM tticket_search "
    "WHERE tticket_search MATCH :fts LIMIT :n)"
)


def _common_on_sqlite(session: Session, words: list[str]) -> bool:
    """Whether the query surely matches at least `COMMON_MATCHES` documents, counted up to
    that many: each word alone first (one rare word makes the query rare, cheaply), then all
    of them together. The words are counted whole, not as prefixes: FTS5 reads a whole
    word's list lazily and stops at the limit, but merges every word a prefix stands for
    before the first row (`printer*`: ~100 ms at 1M mails). A word found whole that often
    is as common as a prefix; one that is not may still be a common prefix, and is then
    searched the way a rare word is (correct, only slower). Asked once a session (the
    page and its count ask both; either answer gives the same tickets)."""
    known: dict[tuple[str, ...], bool] = session.info.setdefault("hubdesk.search.common", {})
    key = tuple(words)
    if key not in known:
        known[key] = _probe_common(session, words)
    return known[key]


def _probe_common(session: Session, words: list[str]) -> bool:
    terms = ['"' + w.replace('"', '""') + '"' for w in words]
    for fts in [*terms, " ".join(terms)] if len(terms) > 1 else terms:
        found = session.execute(_PROBE, {"fts": fts, "n": COMMON_MATCHES}).scalar_one()
        if int(found) < COMMON_MATCHES:
            return False
    return True
