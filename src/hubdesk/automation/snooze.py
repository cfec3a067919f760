"""Snoozing a ticket: hidden from the default open list until a moment, when the worker ends
the snooze (the ticket reappears) and notifies the assignee (`timers.py`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from hubdesk.automation.models import TicketSnooze
from hubdesk.errors import ValidationFailed
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import OPEN_STATES
from hubdesk.users.permissions import TICKETS_EDIT, Principal

MAX_SNOOZE: Final = timedelta(days=366)


def snooze(
    session: Session, actor: Principal, ticket: Ticket, until: datetime, *, now: datetime
) -> TicketSnooze:
    """Snooze `ticket` until `until` (later than now, within a year); a new moment replaces
    the old one. Audited as `snoozed`."""
    actor.require(TICKETS_EDIT)
    if until.tzinfo is None:
        raise ValidationFailed("until needs a time zone (e.g. 2026-03-30T08:00:00+02:00)")
    until = until.astimezone(UTC)
    if until <= now:
        raise ValidationFailed.saying("until must be in the future; give a later date and time")
    if until > now + MAX_SNOOZE:
        raise ValidationFailed("until must be within a year from now")
    if ticket.status not in OPEN_STATES or ticket.merged_into_id is not None:
        raise ValidationFailed(
            f"ticket {ticket.ticket_number} is {ticket.status}; only open tickets can be snoozed"
        )
    row = session.get(TicketSnooze, ticket.id)
    before = row.until.isoformat() if row is not None else None
    if row is None:
        row = TicketSnooze(ticket_id=ticket.id, until=until, created_at=now)
        session.add(row)
    row.until, row.set_by_user_id = until, actor.user_id
    session.flush()
    tickets.record_event(
        session, actor, ticket, "snoozed", {"snoozed_until": [before, until.isoformat()]}
    )
    return row


def unsnooze(session: Session, actor: Principal, ticket: Ticket) -> bool:
    """End a snooze now (no notification: the agent did it); False when there was none."""
    actor.require(TICKETS_EDIT)
    row = session.get(TicketSnooze, ticket.id)
    if row is None:
        return False
    until = row.until.isoformat()
    session.delete(row)
    session.flush()
    tickets.record_event(session, actor, ticket, "unsnoozed", {"snoozed_until": [until, None]})
    return True


def snoozed_until(session: Session, ticket_id: int) -> datetime | None:
    row = session.get(TicketSnooze, ticket_id)
    return row.until if row is not None else None
