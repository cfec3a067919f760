"""Outgoing mail over HTTP: agent replies, the outbox, address flags and mail templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import Field
from sqlalchemy import select

from hubdesk.audit import service as audit
from hubdesk.db.paging import paginate
from hubdesk.db.types import utcnow
from hubdesk.errors import NotFound, ValidationFailed
from hubdesk.outbox import autoreply, replies, service
from hubdesk.outbox.models import AddressFlag, MailTemplate, OutboxMessage
from hubdesk.tickets.schemas import CommentOut
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.permissions import MAILBOXES_MANAGE, REPLIES_SEND
from hubdesk.web.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.web.schemas import ListOf, Out, PagingDep, Strict, page_of

router = APIRouter(tags=["outgoing mail"])


class ReplyIn(Strict):
    body: str = Field(min_length=1, max_length=1_000_000)
    cc: list[str] = Field(default_factory=list, max_length=50)
    attachment_ids: list[int] = Field(default_factory=list, max_length=50)
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


class TemplateIn(Strict):
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=20_000)


class TemplateOut(Out):
    key: str
    language: str
    subject: str
    body: str
    updated_at: datetime
    updated_by: str


@router.post("/tickets/{ticket_id}/replies", response_model=ReplyOut, status_code=201)
def reply(
    ticket_id: int, body: ReplyIn, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
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
    status: str | None = None,
    ticket_id: int | None = None,
) -> ListOf[OutboxOut]:
    principal.require(REPLIES_SEND)
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    if ticket_id is not None:
        get_visible_ticket(session, principal, ticket_id)
        statement = statement.where(OutboxMessage.ticket_id == ticket_id)
    return page_of(
        OutboxOut, paginate(session, statement, limit=paging.limit, offset=paging.offset)
    )


@router.post("/outbox/{outbox_id}/retry", response_model=OutboxOut)
def retry(outbox_id: int, session: SessionDep, principal: PrincipalDep) -> OutboxOut:
    """Send a failed or held message again."""
    principal.require(REPLIES_SEND)
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise NotFound(f"outgoing message {outbox_id} not found")
    service.retry(session, principal, row, utcnow())
    return OutboxOut.model_validate(row)


@router.get("/address-flags", response_model=ListOf[FlagOut])
def list_flags(session: SessionDep, principal: PrincipalDep, paging: PagingDep) -> ListOf[FlagOut]:
    principal.require(REPLIES_SEND)
    statement = (
        select(AddressFlag).where(AddressFlag.bouncing.is_(True)).order_by(AddressFlag.email)
    )
    return page_of(FlagOut, paginate(session, statement, limit=paging.limit, offset=paging.offset))


@router.delete("/address-flags/{email}", status_code=204)
def clear_flag(email: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """The address works again: mail held for it goes out."""
    principal.require(REPLIES_SEND)
    flag = session.get(AddressFlag, email.strip().lower())
    if flag is None or not flag.bouncing:
        raise NotFound(f"{email} is not flagged")
    flag.bouncing, flag.updated_at = False, utcnow()
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.status == "held")):
        if flag.email in row.recipients and not service.bouncing_among(session, row.recipients):
            row.status, row.next_attempt_at, row.reason = "pending", utcnow(), "address cleared"
    audit.record(
        session,
        principal,
        entity_type="address_flag",
        entity_id=None,
        action="cleared",
        changes={"email": [flag.email, None], "bouncing": [True, False]},
    )
    return Response(status_code=204)


@router.get("/templates", response_model=list[TemplateOut])
def list_templates(session: SessionDep, principal: PrincipalDep) -> list[TemplateOut]:
    principal.require(MAILBOXES_MANAGE)
    rows = session.scalars(select(MailTemplate).order_by(MailTemplate.key, MailTemplate.language))
    return [TemplateOut.model_validate(t) for t in rows]


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
    principal.require(MAILBOXES_MANAGE)
    for text in (body.subject, body.body):
        try:
            autoreply.check_template(text)
        except ValueError as exc:
            raise ValidationFailed(str(exc)) from None
    row = session.get(MailTemplate, (key, language)) or MailTemplate(key=key, language=language)
    before: dict[str, Any] = {"subject": row.subject, "body": row.body}
    row.subject, row.body = body.subject, body.body
    row.updated_at, row.updated_by = utcnow(), principal.actor
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        entity_type="mail_template",
        entity_id=None,
        action="updated",
        changes={
            **audit.changes_between(before, {"subject": row.subject, "body": row.body}),
            "template": [None, f"{key}/{language}"],
        },
    )
    return TemplateOut.model_validate(row)
