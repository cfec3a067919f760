"""Canned responses: list, create, change, delete, and fill one in for a ticket.

Every agent who may comment sees the shared responses and their own personal ones; a personal
response of someone else is "not found". Shared responses are changed only with
`canned.manage`. A text with an unknown placeholder is refused with the names to fix.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.canned.models import CannedResponse
from hubdesk.canned.placeholders import KNOWN, Facts, expand, unknown
from hubdesk.customers.models import Contact, Customer
from hubdesk.db.types import utcnow
from hubdesk.errors import NotFound, ValidationFailed
from hubdesk.text import multi_line, single_line
from hubdesk.tickets.models import Ticket
from hubdesk.users.models import User
from hubdesk.users.permissions import CANNED_MANAGE, COMMENTS_CREATE, Principal

MAX_TITLE_CHARS: Final = 200
MAX_BODY_CHARS: Final = 20_000
MAX_RESPONSES: Final = 1000


def list_responses(session: Session, actor: Principal) -> list[CannedResponse]:
    """The shared responses and the actor's own, shared first, each by title."""
    actor.require(COMMENTS_CREATE)
    owner = CannedResponse.owner_user_id
    mine = (
        owner.is_(None) if actor.user_id is None else (owner.is_(None) | (owner == actor.user_id))
    )
    return list(
        session.scalars(
            select(CannedResponse)
            .where(mine)
            .order_by(owner.is_not(None), CannedResponse.title, CannedResponse.id)
            .limit(MAX_RESPONSES)
        )
    )


def get_response(session: Session, actor: Principal, response_id: int) -> CannedResponse:
    actor.require(COMMENTS_CREATE)
    row = session.get(CannedResponse, response_id)
    if row is None or (row.owner_user_id is not None and row.owner_user_id != actor.user_id):
        raise NotFound(f"canned response {response_id} not found")
    return row


def create_response(
    session: Session, actor: Principal, *, title: str, body: str, shared: bool
) -> CannedResponse:
    actor.require(COMMENTS_CREATE)
    if shared:
        actor.require(CANNED_MANAGE)
    elif actor.user_id is None:
        raise ValidationFailed("a personal canned response needs a user; make it shared")
    clean_title, clean_body = _checked(title, body)
    now = utcnow()
    row = CannedResponse(
        title=clean_title,
        body=clean_body,
        owner_user_id=None if shared else actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="canned_response",
        entity_id=row.id,
        action="created",
        changes=audit.created({"title": row.title, "shared": shared}),
    )
    return row


def update_response(
    session: Session,
    actor: Principal,
    row: CannedResponse,
    *,
    title: str | None = None,
    body: str | None = None,
) -> CannedResponse:
    _may_change(actor, row)
    clean_title, clean_body = _checked(
        row.title if title is None else title, row.body if body is None else body
    )
    before = {"title": row.title, "body": row.body}
    row.title, row.body, row.updated_at = clean_title, clean_body, utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="canned_response",
        entity_id=row.id,
        action="updated",
        changes=audit.changes_between(before, {"title": row.title, "body": row.body}),
    )
    return row


def delete_response(session: Session, actor: Principal, row: CannedResponse) -> None:
    _may_change(actor, row)
    audit.record(
        session,
        actor,
        entity_type="canned_response",
        entity_id=row.id,
        action="deleted",
        changes={"title": [row.title, None]},
    )
    session.delete(row)
    session.flush()


def fill_in(session: Session, row: CannedResponse, ticket: Ticket, agent: User | None) -> str:
    """The response's text with the ticket's and the agent's values in its placeholders."""
    return expand(row.body, facts_for(session, ticket, agent))


def facts_for(session: Session, ticket: Ticket, agent: User | None) -> Facts:
    customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    return Facts(
        customer_name=customer.name if customer is not None else "",
        contact_name=(contact.name or "") if contact is not None else "",
        contact_email=contact.email if contact is not None else "",
        ticket_number=ticket.ticket_number,
        ticket_subject=ticket.subject,
        agent_name=agent.name if agent is not None else "",
        agent_email=agent.email if agent is not None else "",
    )


def _may_change(actor: Principal, row: CannedResponse) -> None:
    actor.require(COMMENTS_CREATE)
    if row.owner_user_id is None:
        actor.require(CANNED_MANAGE)
    elif row.owner_user_id != actor.user_id:
        raise NotFound(f"canned response {row.id} not found")


def _checked(title: str, body: str) -> tuple[str, str]:
    clean_title = single_line(title, MAX_TITLE_CHARS + 1)
    clean_body = multi_line(body).strip()
    if not clean_title:
        raise ValidationFailed("title must not be empty")
    if len(clean_title) > MAX_TITLE_CHARS:
        raise ValidationFailed(f"title is longer than {MAX_TITLE_CHARS} characters")
    if not clean_body:
        raise ValidationFailed("body must not be empty")
    if len(clean_body) > MAX_BODY_CHARS:
        raise ValidationFailed(f"body is longer than {MAX_BODY_CHARS} characters")
    bad = unknown(clean_body)
    if bad:
        names = ", ".join("{{" + name + "}}" for name in bad)
        known = ", ".join("{{" + name + "}}" for name in KNOWN)
        raise ValidationFailed.saying(
            "unknown placeholder {names}; use one of {known}", names=names, known=known
        )
    return clean_title, clean_body
