"""Comments on tickets: public replies and internal notes, by users or by contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db import ids, rows
from hubdesk.db.paging import Page, paginate
from hubdesk.db.types import utcnow
from hubdesk.errors import ValidationFailed
from hubdesk.sla import service as sla
from hubdesk.text import multi_line
from hubdesk.tickets import search
from hubdesk.tickets.models import Comment, Ticket
from hubdesk.users.permissions import COMMENTS_CREATE, Principal

MAX_COMMENT_CHARS: Final = 1_000_000


def add_comment(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    body: str,
    *,
    internal: bool = False,
    source: str = "api",
    author_contact_id: int | None = None,
    now: datetime | None = None,
    reindex: bool = True,
    email_log_id: int | None = None,
) -> Comment:
    """Add a comment; a user's first public comment marks the ticket's first response.
    `email_log_id` names the email the comment came from (a reply by mail)."""
    actor.require(COMMENTS_CREATE)
    text = multi_line(body).strip()
    if not text:
        raise ValidationFailed("body must not be empty")
    if len(text) > MAX_COMMENT_CHARS:
        raise ValidationFailed(f"body is longer than {MAX_COMMENT_CHARS} characters")
    now = now or utcnow()
    comment = rows.new(
        Comment,
        ticket_id=ticket.id,
        body=text,
        is_internal=internal,
        author_user_id=actor.user_id if author_contact_id is None else None,
        author_contact_id=author_contact_id,
        source=source,
        created_at=now,
        email_log_id=email_log_id,
    )
    rows.add(session, comment)
    ticket.updated_at = now
    if not internal and author_contact_id is None and actor.user_id is not None:
        ticket.first_response_at = ticket.first_response_at or now
    if not ids.assign(session, comment):  # a bulk batch numbers it now, flushes it later
        session.flush()
    # SLA hook: an agent's public comment meets a response, a customer's reply owes one.
    sla.on_comment(
        session,
        ticket,
        by_agent=author_contact_id is None and actor.user_id is not None,
        public=not internal,
        now=now,
    )
    audit.record(
        session,
        actor,
        entity_type="comment",
        entity_id=comment.id,
        ticket_id=ticket.id,
        action="comment_added",
        changes=audit.created({"is_internal": internal, "source": source, "length": len(text)}),
    )
    if reindex:
        search.reindex_ticket(session, ticket)
    return comment


def list_comments(
    session: Session, ticket: Ticket, *, limit: int, offset: int, include_internal: bool = True
) -> Page[Any]:
    statement = select(Comment).where(Comment.ticket_id == ticket.id)
    if not include_internal:
        statement = statement.where(Comment.is_internal.is_(False))
    return paginate(
        session, statement.order_by(Comment.created_at, Comment.id), limit=limit, offset=offset
    )
