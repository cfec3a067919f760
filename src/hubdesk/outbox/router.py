"""Outgoing mail over HTTP: agent replies, the outbox, address flags and mail templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.limits import END, MAX_COMMENT_CHARS, NOT_SPACE, SPACE, Id, PlainAddress
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, Out, Strict, page_of
from hubdesk.db.types import utcnow
from hubdesk.outbox import autoreply, replies, service
from hubdesk.tickets.schemas import CommentOut
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.permissions import REPLIES_SEND

router = APIRouter(tags=["outgoing mail"])


class ReplyIn(Strict):
    body: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)
    cc: list[PlainAddress] = Field(default_factory=list, max_length=50)
    attachment_ids: list[Id] = Field(default_factory=list, max_length=50)
    status: (
        Literal["open", "in_progress", "waiting_customer", "waiting_internal", "resolved"] | None
    ) = None


class OutboxOut(Out):
    id: int
    kind: str
    ticket_id: int | None
    recipients: list[str]
    message_id: str
    subject: str
    status: str
    reason: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    bounced_at: datetime | None


class ReplyOut(Out):
    comment: CommentOut
    outgoing: OutboxOut


class FlagOut(Out):
    email: str
    bouncing: bool
    bounce_count: int
    last_bounce_at: datetime | None
    last_bounce_reason: str


# Not blank, and braces only as `{ticket_number}` or doubled (`autoreply.check_template`).
TEMPLATE_TEXT: Final[dict[str, Any]] = {
    "pattern": rf"^(?={SPACE}*{NOT_SPACE})(?:[^{{}}]|\{{\{{|\}}\}}|\{{ticket_number\}})*{END}"
}


class TemplateIn(Strict):
    subject: str = Field(min_length=1, max_length=500, json_schema_extra=TEMPLATE_TEXT)
    body: str = Field(min_length=1, max_length=20_000, json_schema_extra=TEMPLATE_TEXT)


class TemplateOut(Out):
    key: str
    language: str
    subject: str
    body: str
    updated_at: datetime
    updated_by: str


@router.post("/tickets/{ticket_id}/replies", response_model=ReplyOut, status_code=201)
def reply(
    ticket_id: Id, body: ReplyIn, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> ReplyOut:
    """Answer the customer: a public comment and an e-mail that threads in their client."""
    principal.require(REPLIES_SEND)
    ticket = get_visible_ticket(session, principal, ticket_id)
    comment, row = replies.send_reply(
        session,
        runtime,
        principal,
        ticket,
        body=body.body,
        cc=body.cc,
        attachment_ids=body.attachment_ids,
        status=body.status,
        now=utcnow(),
    )
    return ReplyOut(
        comment=CommentOut.model_validate(comment), outgoing=OutboxOut.model_validate(row)
    )


@router.get("/outbox", response_model=ListOf[OutboxOut])
def list_outbox(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    status: Literal["pending", "sending", "sent", "failed", "bounced", "held", "suppressed"]
    | None = None,
    ticket_id: Id | None = None,
) -> ListOf[OutboxOut]:
    page = service.list_messages(
        session,
        principal,
        status=status,
        ticket_id=ticket_id,
        limit=paging.limit,
        offset=paging.offset,
    )
    return page_of(OutboxOut, page)


@router.post("/outbox/{outbox_id}/retry", response_model=OutboxOut)
def retry(outbox_id: Id, session: SessionDep, principal: PrincipalDep) -> OutboxOut:
    """Send a failed or held message again."""
    row = service.get_message(session, principal, outbox_id)
    service.retry(session, principal, row, utcnow())
    return OutboxOut.model_validate(row)


@router.get("/address-flags", response_model=ListOf[FlagOut])
def list_flags(session: SessionDep, principal: PrincipalDep, paging: PagingDep) -> ListOf[FlagOut]:
    page = service.bouncing_addresses(session, principal, limit=paging.limit, offset=paging.offset)
    return page_of(FlagOut, page)


@router.delete("/address-flags/{email}", status_code=204)
def clear_flag(email: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """The address works again: mail held for it goes out."""
    service.clear_flag(session, principal, email, utcnow())
    return Response(status_code=204)


@router.get("/templates", response_model=list[TemplateOut])
def list_templates(session: SessionDep, principal: PrincipalDep) -> list[TemplateOut]:
    return [TemplateOut.model_validate(t) for t in autoreply.list_templates(session, principal)]


@router.put("/templates/{key}/{language}", response_model=TemplateOut)
def put_template(
    key: Literal["auto_reply"],
    language: Literal["da", "en"],
    body: TemplateIn,
    session: SessionDep,
    principal: PrincipalDep,
) -> TemplateOut:
    """Change a template. It may use only `{ticket_number}`: nothing of the customer's
    message ever goes back out automatically."""
    row = autoreply.save_template(
        session, principal, key, language, subject=body.subject, body=body.body
    )
    return TemplateOut.model_validate(row)
