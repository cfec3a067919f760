"""The one query every ticket read starts from.

Lists, detail views, counts, search and sub-resources (comments, attachments, worklogs,
emails, audit) all begin with `visible_tickets(principal)`, so that a narrower scope (per
group, per customer) changes this function only. In this version a user with `tickets.view`
sees every ticket that is not deleted.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hubdesk.errors import NotFound
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import TICKETS_VIEW, Principal


def visible_tickets(principal: Principal) -> Select[Ticket]:
    principal.require(TICKETS_VIEW)
    return select(Ticket).where(Ticket.deleted_at.is_(None))


def get_visible_ticket(session: Session, principal: Principal, ticket_id: int) -> Ticket:
    """The ticket, or `NotFound` when it does not exist or the principal may not see it."""
    ticket = session.scalars(visible_tickets(principal).where(Ticket.id == ticket_id)).first()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def get_visible_ticket_by_number(session: Session, principal: Principal, number: str) -> Ticket:
    ticket = session.scalars(
        visible_tickets(principal).where(Ticket.ticket_number == number)
    ).first()
    if ticket is None:
        raise NotFound(f"ticket {number} not found")
    return ticket
