"""`/api/v1/inbound`: the ledger of received mail, its raw bytes, and re-processing; and
quarantined mail's way out: dismissing it (kept, hidden), restoring it, and turning it into a
ticket by hand, through `hubdesk.inbound.quarantine` as the admin pages do."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response, status
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.downloads import attachment_response
from hubdesk.api.limits import LABEL_PATTERN, EmailAddress, Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, Out, Strict, page_of
from hubdesk.classifier import service as classifier
from hubdesk.classifier.models import Classification
from hubdesk.inbound import quarantine, service
from hubdesk.intake import pipeline, prologue
from hubdesk.intake.http.email_to_ticket import outcome_body
from hubdesk.users.permissions import EMAILS_CLASSIFY, INBOUND_REPROCESS, INBOUND_VIEW

router = APIRouter(prefix="/inbound", tags=["inbound"])


class InboundOut(Out):
    id: int
    source: str
    received_at: datetime
    raw_sha256: str
    size: int
    status: str
    reason: str
    message_id: str | None
    subject: str | None
    from_address: str | None
    ticket_id: int | None
    duplicate_of_id: int | None
    flags: dict[str, Any]
    attempts: int
    processed_at: datetime | None
    raw_purged_at: datetime | None
    classification: str | None
    classification_confidence: float | None
    queue: str | None
    mailbox_id: int | None


class ClassificationIn(Strict):
    label: str = Field(min_length=1, max_length=64, json_schema_extra={"pattern": LABEL_PATTERN})
    note: str = Field(default="", max_length=2000)


class ClassificationOut(Out):
    id: int
    inbound_id: int
    label: str
    confidence: float
    source: str
    model: str
    reasons: list[str]
    created_at: datetime


class DismissIn(Strict):
    note: str = Field(default="", max_length=500, description="Why it was dismissed")


class DismissalOut(Out):
    inbound_id: int
    dismissed: bool = Field(description="Whether the message is dismissed now")
    changed: bool = Field(description="False when it already was (or already was not)")
    dismissed_at: datetime | None
    note: str


class MakeTicketIn(Strict):
    sender: EmailAddress | None = Field(
        default=None, description="The customer's address, when the mail names no sender"
    )
    customer_id: Id | None = None


class MadeTicketOut(Out):
    inbound_id: int
    ticket_id: int
    ticket_number: str
    created: bool = Field(description="False when an earlier call already made the ticket")


class InboundDetail(InboundOut):
    envelope: dict[str, Any]
    last_error: str | None


@router.get("", response_model=ListOf[InboundOut])
def list_inbound(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    status: Literal["received", "processed", "duplicate", "ignored", "quarantined", "failed"]
    | None = None,
) -> ListOf[InboundOut]:
    page = service.list_messages(
        session, principal, status=status, limit=paging.limit, offset=paging.offset
    )
    return page_of(InboundOut, page)


@router.get("/{inbound_id}", response_model=InboundDetail)
def get_inbound(inbound_id: Id, session: SessionDep, principal: PrincipalDep) -> InboundDetail:
    principal.require(INBOUND_VIEW)
    return InboundDetail.model_validate(service.get(session, inbound_id))


@router.get(
    "/{inbound_id}/raw",
    response_class=Response,
    responses={
        200: {
            "description": "The message exactly as received",
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def get_raw(
    inbound_id: Id, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    """The exact bytes received, as a download (never rendered by the browser)."""
    principal.require(INBOUND_VIEW)
    row = service.get(session, inbound_id)
    data = service.raw_bytes(runtime.blobs, row)
    return attachment_response(
        data, filename=f"inbound-{row.id}.eml", content_type="message/rfc822"
    )


@router.post("/{inbound_id}/reprocess")
async def reprocess(inbound_id: Id, principal: PrincipalDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Run a quarantined, failed or stuck message through the pipeline again."""
    principal.require(INBOUND_REPROCESS)
    outcome = await run_in_threadpool(pipeline.reprocess, runtime, inbound_id, principal)
    return outcome_body(outcome)


@router.get("/{inbound_id}/classifications", response_model=list[ClassificationOut])
def classifications(
    inbound_id: Id, session: SessionDep, principal: PrincipalDep
) -> list[ClassificationOut]:
    """Every classification of the email, oldest first (rules, model, agents)."""
    principal.require(INBOUND_VIEW)
    row = service.get(session, inbound_id)
    found = session.scalars(
        select(Classification)
        .where(Classification.inbound_id == row.id)
        .order_by(Classification.created_at, Classification.id)
    )
    return [ClassificationOut.model_validate(c) for c in found]


@router.post("/{inbound_id}/classification", response_model=ClassificationOut, status_code=201)
def reclassify(
    inbound_id: Id, body: ClassificationIn, session: SessionDep, principal: PrincipalDep
) -> ClassificationOut:
    """An agent's label for the email; it trains the next classifier model."""
    principal.require(EMAILS_CLASSIFY)
    row = service.get(session, inbound_id)
    entry = classifier.reclassify(session, principal, row, body.label, body.note)
    return ClassificationOut.model_validate(entry)


def _dismissal_out(session: Session, row_id: int, changed: bool) -> DismissalOut:
    found = quarantine.dismissal(session, service.get(session, row_id))
    return DismissalOut(
        inbound_id=row_id,
        dismissed=found is not None,
        changed=changed,
        dismissed_at=found.dismissed_at if found is not None else None,
        note=found.note if found is not None else "",
    )


@router.post("/{inbound_id}/dismissal", response_model=DismissalOut)
def dismiss(
    inbound_id: Id, body: DismissIn, session: SessionDep, principal: PrincipalDep
) -> DismissalOut:
    """Hide a quarantined message from the problems list (kept; `DELETE` restores it).
    409 when the message is not quarantined."""
    principal.require(INBOUND_REPROCESS)  # before the row is looked up (and locked)
    row = service.lock(session, inbound_id)
    changed = quarantine.dismiss(session, principal, row, body.note)
    return _dismissal_out(session, row.id, changed)


@router.delete("/{inbound_id}/dismissal", response_model=DismissalOut)
def restore(inbound_id: Id, session: SessionDep, principal: PrincipalDep) -> DismissalOut:
    """Undo a dismissal: the message is back among the quarantined mail to look at."""
    principal.require(INBOUND_REPROCESS)
    row = service.lock(session, inbound_id)
    changed = quarantine.restore(session, principal, row)
    return _dismissal_out(session, row.id, changed)


@router.post(
    "/{inbound_id}/ticket",
    response_model=MadeTicketOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": MadeTicketOut, "description": "The ticket made earlier"}},
)
def make_ticket(
    inbound_id: Id,
    body: MakeTicketIn,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    response: Response,
) -> MadeTicketOut:
    """A ticket from a quarantined message, by hand (needs `inbound.reprocess` and
    `tickets.create`): the mail attached as `.eml`, its sender (or `sender`) as contact.
    A message that has a ticket already (made by an earlier call, or the usual way) answers
    200 with that ticket. 409 when the message is neither quarantined nor has a ticket; 422
    when it has no sender and none is given."""
    made = quarantine.make_ticket(
        session,
        runtime,
        principal,
        inbound_id,
        sender=body.sender or "",
        customer_id=body.customer_id,
        team_id=prologue.inbound_team(session, inbound_id),
    )
    if not made.created:
        response.status_code = status.HTTP_200_OK
    return MadeTicketOut(
        inbound_id=inbound_id,
        ticket_id=made.ticket.id,
        ticket_number=made.ticket.ticket_number,
        created=made.created,
    )
