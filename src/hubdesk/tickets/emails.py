"""Reading the email log: a ticket's mail thread, and the tickets of an address."""

from __future__ import annotations

from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hubdesk.customers.models import Contact
from hubdesk.tickets.models import EmailLog, Ticket, TicketParticipant
from hubdesk.tickets.visibility import visible_tickets
from hubdesk.users.permissions import Principal

MAX_TICKETS_PER_ADDRESS: Final = 500


def thread(session: Session, ticket: Ticket) -> list[EmailLog]:
    """Every email of the ticket, oldest first (inbound and outbound)."""
    return list(
        session.scalars(
            select(EmailLog)
            .where(EmailLog.ticket_id == ticket.id)
            .order_by(EmailLog.email_received_at, EmailLog.created_at, EmailLog.id)
        )
    )


def tickets_for_address(session: Session, principal: Principal, address: str) -> list[Ticket]:
    """Visible tickets the address wrote to, is the contact of, or takes part in."""
    email = address.strip().lower()
    contact_ids = select(Contact.id).where(Contact.email == email)
    from_log = select(EmailLog.ticket_id).where(EmailLog.email_from == email)
    participating = select(TicketParticipant.ticket_id).where(TicketParticipant.email == email)
    statement = (
        visible_tickets(principal)
        .where(
            or_(
                Ticket.contact_id.in_(contact_ids),
                Ticket.id.in_(from_log),
                Ticket.id.in_(participating),
            )
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(MAX_TICKETS_PER_ADDRESS)
    )
    return list(session.scalars(statement))
