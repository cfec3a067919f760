"""The spec's email routes: `/tickets/{id}/emails` and `/tickets/by-email/{address}`."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.schemas import Out
from hubdesk.tickets import emails
from hubdesk.tickets.visibility import get_visible_ticket

router = APIRouter(prefix="/tickets", tags=["tickets"])


class EmailOut(Out):
    id: int
    email_message_id: str
    email_from: str
    email_subject: str | None
    email_received_at: datetime | None
    is_reply: bool
    created_at: datetime
    direction: str
    decision: str
    reason: str
    inbound_id: int | None


class TicketEmails(BaseModel):
    ticket_id: int
    ticket_number: str
    emails: list[EmailOut]


class TicketBrief(Out):
    id: int
    ticket_number: str
    subject: str
    status: str
    created_at: datetime


class AddressTickets(BaseModel):
    email_address: str
    tickets: list[TicketBrief]


@router.get("/by-email/{email_address}", response_model=AddressTickets)
def tickets_by_email(
    email_address: str, session: SessionDep, principal: PrincipalDep
) -> AddressTickets:
    found = emails.tickets_for_address(session, principal, email_address)
    return AddressTickets(
        email_address=email_address.strip().lower(),
        tickets=[TicketBrief.model_validate(t) for t in found],
    )


@router.get("/{ticket_id}/emails", response_model=TicketEmails)
def ticket_emails(ticket_id: Id, session: SessionDep, principal: PrincipalDep) -> TicketEmails:
    ticket = get_visible_ticket(session, principal, ticket_id)
    return TicketEmails(
        ticket_id=ticket.id,
        ticket_number=ticket.ticket_number,
        emails=[EmailOut.model_validate(e) for e in emails.thread(session, ticket)],
    )
