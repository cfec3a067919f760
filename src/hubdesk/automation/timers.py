"""The worker's time-based automation (job `automation`, every 60 s; docs/automation.md):

- a snooze that has ended: the ticket is back in the open list and its assignee is told;
- `TICKET_PENDING_AUTO_RESOLVE_DAYS`: a ticket waiting for the customer that long is resolved;
- `TICKET_PENDING_REMINDER_DAYS`: its customer is reminded once per waiting period;
- `TICKET_AUTO_CLOSE_DAYS`: a resolved ticket without a customer reply that long is closed.

"Never twice" is kept as the SLA escalations keep it: each event has a key unique in
`automation_events` (the ticket, the kind and the moment its wait began) inserted with
ON CONFLICT DO NOTHING, in the transaction that makes the change, after the ticket row is
locked and its state checked again. A restarted or doubled worker inserts nothing and
changes nothing. Each change is an audit row on the ticket naming its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.automation import reasons
from hubdesk.automation.keys import insert_once
from hubdesk.automation.models import AutomationEvent, TicketSnooze
from hubdesk.customers.models import Contact
from hubdesk.db.types import utcnow
from hubdesk.outbox import service as outbox
from hubdesk.outbox.notify import notify_user
from hubdesk.outbox.replies import reply_subject
from hubdesk.runtime import Runtime
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import OPEN_STATES
from hubdesk.users.models import User
from hubdesk.users.permissions import SYSTEM

log = logging.getLogger(__name__)

BATCH: Final = 200
"""Tickets looked at per kind and run; the next run takes the rest."""

Action = Callable[[Session, Runtime, Ticket, datetime], dict[str, Any] | None]


def run(runtime: Runtime, now: datetime | None = None) -> int:
    """Fire every automatic change that is due; returns how many fired (the worker's job)."""
    now = now or utcnow()
    settings = runtime.settings
    fired = _sweep(runtime, now, "snooze_ended", _snoozes_due(now), _end_snooze)
    if settings.ticket_pending_auto_resolve_days:
        days = settings.ticket_pending_auto_resolve_days
        due = _waiting_since(now - timedelta(days=days))
        fired += _sweep(runtime, now, "auto_resolved", due, _auto_resolve)
    if settings.ticket_pending_reminder_days:
        days = settings.ticket_pending_reminder_days
        due = _waiting_since(now - timedelta(days=days))
        fired += _sweep(runtime, now, "pending_reminder", due, _remind)
    if settings.ticket_auto_close_days:
        due = _resolved_since(now - timedelta(days=settings.ticket_auto_close_days))
        fired += _sweep(runtime, now, "auto_closed", due, _auto_close)
    if fired:
        log.info("automation: %d automatic change(s)", fired)
    return fired


def _snoozes_due(now: datetime) -> Any:
    return (
        select(TicketSnooze.ticket_id)
        .where(TicketSnooze.until <= now)
        .order_by(TicketSnooze.until, TicketSnooze.ticket_id)
    )


def _waiting_since(cutoff: datetime) -> Any:
    return _live(
        select(Ticket.id).where(Ticket.status == "waiting_customer", Ticket.updated_at <= cutoff)
    ).order_by(Ticket.updated_at, Ticket.id)


def _resolved_since(cutoff: datetime) -> Any:
    return _live(
        select(Ticket.id).where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff)
    ).order_by(Ticket.resolved_at, Ticket.id)


def _live(statement: Any) -> Any:
    return statement.where(Ticket.deleted_at.is_(None), Ticket.merged_into_id.is_(None))


def _sweep(runtime: Runtime, now: datetime, kind: str, candidates: Any, action: Action) -> int:
    with runtime.db.transaction(write=False) as session:
        ticket_ids = list(session.scalars(candidates.limit(BATCH)))
    fired = 0
    for ticket_id in ticket_ids:
        with runtime.db.transaction() as session:
            ticket = session.scalars(
                select(Ticket)
                .where(Ticket.id == ticket_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).first()
            if ticket is None:
                continue
            fired += _fire(session, runtime, ticket, kind, action, now)
    return fired


def _fire(
    session: Session, runtime: Runtime, ticket: Ticket, kind: str, action: Action, now: datetime
) -> int:
    """Check the ticket again under its lock, claim the event's key, then act."""
    key = _event_key(session, runtime, ticket, kind, now)
    if key is None:
        return 0
    values = {"event_key": key, "ticket_id": ticket.id, "kind": kind, "fired_at": now}
    if not insert_once(session, AutomationEvent, "event_key", {**values, "result": {}}):
        return 0
    result = action(session, runtime, ticket, now) or {}
    row = session.scalars(select(AutomationEvent).where(AutomationEvent.event_key == key)).one()
    row.result = result
    return 1


def _event_key(
    session: Session, runtime: Runtime, ticket: Ticket, kind: str, now: datetime
) -> str | None:
    """The key of the event due on `ticket` now (None when it no longer is): the kind and
    the moment the wait began, so a new wait (a new snooze, another resolution) is new."""
    settings = runtime.settings
    if kind == "snooze_ended":
        snooze = session.get(TicketSnooze, ticket.id, populate_existing=True)
        if snooze is None or snooze.until > now:
            return None
        return f"snooze_ended:{ticket.id}:{snooze.until.isoformat()}"
    if ticket.deleted_at is not None or ticket.merged_into_id is not None:
        return None
    if kind in ("auto_resolved", "pending_reminder"):
        days = (
            settings.ticket_pending_auto_resolve_days
            if kind == "auto_resolved"
            else settings.ticket_pending_reminder_days
        )
        since = ticket.updated_at
        if ticket.status != "waiting_customer" or since > now - timedelta(days=days):
            return None
        return f"{kind}:{ticket.id}:{since.isoformat()}"
    resolved = ticket.resolved_at
    days = settings.ticket_auto_close_days
    if ticket.status != "resolved" or resolved is None or resolved > now - timedelta(days=days):
        return None
    return f"auto_closed:{ticket.id}:{resolved.isoformat()}"


def _end_snooze(
    session: Session, runtime: Runtime, ticket: Ticket, now: datetime
) -> dict[str, Any]:
    snooze = session.get(TicketSnooze, ticket.id)
    assert snooze is not None
    until = snooze.until
    session.delete(snooze)
    session.flush()
    live = ticket.deleted_at is None and ticket.merged_into_id is None
    if live and ticket.status in OPEN_STATES:
        told = _tell_assignee(session, runtime, ticket, "snooze_ended", now)
    else:
        told = f"not told: the ticket is {'deleted or merged' if not live else ticket.status}"
    tickets.record_event(
        session,
        SYSTEM,
        ticket,
        "snooze_ended",
        {
            "snoozed_until": [until.isoformat(), None],
            "reason": [None, [reasons.part("snooze_ended")]],
        },
    )
    return {"snoozed_until": until.isoformat(), "assignee": told}


def _auto_resolve(
    session: Session, runtime: Runtime, ticket: Ticket, now: datetime
) -> dict[str, Any]:
    days = runtime.settings.ticket_pending_auto_resolve_days
    reason = [reasons.part("auto_resolved", days=days)]
    _set_status(session, ticket, "resolved", "auto_resolved", reason, now)
    return {"status": "resolved", "reason": reasons.english(reason)}


def _auto_close(
    session: Session, runtime: Runtime, ticket: Ticket, now: datetime
) -> dict[str, Any]:
    days = runtime.settings.ticket_auto_close_days
    reason = [reasons.part("auto_closed", days=days)]
    _set_status(session, ticket, "closed", "auto_closed", reason, now)
    return {"status": "closed", "reason": reasons.english(reason)}


def _set_status(
    session: Session,
    ticket: Ticket,
    status: str,
    action: str,
    reason: list[reasons.Part],
    now: datetime,
) -> None:
    before = ticket.status
    tickets.change_status(ticket, status, now)
    ticket.updated_at = now
    tickets.flush_ticket(session, ticket)
    tickets.record_event(
        session, SYSTEM, ticket, action, {"status": [before, status], "reason": [None, reason]}
    )


def _remind(session: Session, runtime: Runtime, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """Mail the customer a reminder in the ticket's thread (the ticket stays waiting: the
    reminder does not move `updated_at`, so auto-resolve still counts from the same wait)."""
    settings = runtime.settings
    days = settings.ticket_pending_reminder_days
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id is not None else None
    if contact is None:
        sent = reasons.part("reminder_no_contact")
    elif not settings.smtp_host:
        sent = reasons.part("reminder_no_smtp")
    else:
        language = settings.auto_reply_language if settings.auto_reply_language != "auto" else "en"
        text = REMINDER.get(language, REMINDER["en"])
        in_reply_to, references = outbox.thread_ids(session, ticket)
        row = outbox.enqueue(
            session,
            settings,
            runtime.secret_key,
            SYSTEM,
            kind="notice",
            ticket=ticket,
            to=[contact.email],
            subject=reply_subject(ticket),
            body=text.format(number=ticket.ticket_number, days=days),
            in_reply_to=in_reply_to,
            references=references,
            auto_submitted="auto-generated",
            now=now,
        )
        sent = reasons.part("reminder_queued", outbox_id=row.id, address=contact.email)
    reason = [reasons.part("reminded", days=days, sent=sent)]
    tickets.record_event(session, SYSTEM, ticket, "pending_reminder", {"reason": [None, reason]})
    return {"reminder": reasons.english(sent)}


def _tell_assignee(
    session: Session, runtime: Runtime, ticket: Ticket, event: str, now: datetime
) -> str:
    if ticket.assigned_to_user_id is None:
        return "no assignee"
    agent = session.get(User, ticket.assigned_to_user_id)
    if agent is None:
        return "no assignee"
    row = notify_user(session, runtime, ticket, agent, event=event, now=now)
    return f"queued outbox message {row.id}" if row is not None else "not sent (see settings)"


REMINDER: Final[dict[str, str]] = {
    "en": (
        "Hello,\n\nWe are still waiting for your answer on ticket {number} ({days} days now). "
        "Reply to this mail and we will continue; without an answer we will close the ticket "
        "after a while.\n"
    ),
    "da": (
        "Hej,\n\nVi venter stadig på dit svar på sag {number} (nu {days} dage). Svar på denne "
        "mail, så fortsætter vi; uden svar lukker vi sagen efter et stykke tid.\n"
    ),
}
"""The customer reminder's text per AUTO_REPLY_LANGUAGE (English when `auto`)."""
