"""`/api/v1/tickets/{id}/snooze` (PUT, DELETE), `/api/v1/tickets/{id}/split` (POST) and
`/api/v1/tickets/{id}/automation-events` (GET): the automation of a ticket."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import Field
from sqlalchemy import select

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.limits import MAX_LIST_ITEMS, Id, Int
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, Out, Strict, page_of
from hubdesk.automation import snooze as snoozing
from hubdesk.automation import split as splitting
from hubdesk.automation.models import AutomationEvent
from hubdesk.db.paging import paginate
from hubdesk.db.types import utcnow
from hubdesk.tickets.schemas import TicketOut
from hubdesk.tickets.visibility import get_visible_ticket

router = APIRouter(tags=["automation"])


class SnoozeIn(Strict):
    until: datetime = Field(description="ISO 8601 with an offset; in the future, within a year")


class SnoozeOut(Out):
    ticket_id: int
    snoozed_until: datetime


class SplitIn(Strict):
    email_ids: list[Id] = Field(
        min_length=1,
        max_length=MAX_LIST_ITEMS,
        description="Received messages of the ticket (GET /tickets/{id}/emails) to move",
    )
    version: Int | None = Field(
        default=None, description="The ticket's version as read; a newer one is a 409"
    )


class AutomationEventOut(Out):
    id: int
    ticket_id: int
    kind: str
    fired_at: datetime
    result: dict[str, str]


@router.put("/tickets/{ticket_id}/snooze", response_model=SnoozeOut)
def snooze_ticket(
    ticket_id: Id, body: SnoozeIn, session: SessionDep, principal: PrincipalDep
) -> SnoozeOut:
    """Hide the ticket from the default open list until `until`; then it reappears and its
    assignee is notified."""
    ticket = get_visible_ticket(session, principal, ticket_id)
    row = snoozing.snooze(session, principal, ticket, body.until, now=utcnow())
    return SnoozeOut(ticket_id=ticket.id, snoozed_until=row.until)


@router.delete("/tickets/{ticket_id}/snooze", status_code=204)
def unsnooze_ticket(ticket_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    """End the snooze now (nothing happens when the ticket is not snoozed)."""
    ticket = get_visible_ticket(session, principal, ticket_id)
    snoozing.unsnooze(session, principal, ticket)
    return Response(status_code=204)


@router.get("/tickets/{ticket_id}/automation-events", response_model=ListOf[AutomationEventOut])
def automation_events(
    ticket_id: Id, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[AutomationEventOut]:
    """The automatic changes the worker made to the ticket (snooze ended, reminder, auto-
    resolve, auto-close), oldest first, with what each did."""
    ticket = get_visible_ticket(session, principal, ticket_id)
    statement = (
        select(AutomationEvent)
        .where(AutomationEvent.ticket_id == ticket.id)
        .order_by(AutomationEvent.fired_at, AutomationEvent.id)
    )
    page = paginate(session, statement, limit=paging.limit, offset=paging.offset)
    return page_of(AutomationEventOut, page)


@router.post("/tickets/{ticket_id}/split", response_model=TicketOut, status_code=201)
def split_ticket(
    ticket_id: Id, body: SplitIn, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> TicketOut:
    """Move received messages (with their attachments) off the ticket into a new ticket;
    both tickets link each other, later replies to a moved message go to the new one."""
    ticket = get_visible_ticket(session, principal, ticket_id)
    new = splitting.split_messages(
        session,
        principal,
        ticket,
        body.email_ids,
        tz=runtime.settings.tz,
        now=utcnow(),
        expected_version=body.version,
    )
    return TicketOut.model_validate(new)
