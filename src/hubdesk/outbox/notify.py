"""Telling agents by mail: a new ticket assigned to them, a customer reply on their ticket.

At most one notification per ticket per NOTIFY_MIN_INTERVAL_MINUTES, none to users who turned
them off (`notify_by_email`) or are inactive, and none when NOTIFY_AGENTS is off or no SMTP
server is configured. Notifications are `Auto-Submitted: auto-generated`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hubdesk.outbox import service as outbox
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.models import User
from hubdesk.users.permissions import SYSTEM


def notify_agent(
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    *,
    event: str,
    now: datetime,
) -> OutboxMessage | None:
    """Queue a notification of `event` (`assigned`, `customer_replied`, `sla_warning`,
    `sla_breach`) to the assignee."""
    settings = runtime.settings
    if not settings.notify_agents or not settings.smtp_host or ticket.assigned_to_user_id is None:
        return None
    agent = session.get(User, ticket.assigned_to_user_id)
    if agent is None or not agent.active or not agent.notify_by_email:
        return None
    since = now - timedelta(minutes=settings.notify_min_interval_minutes)
    if outbox.count_since(session, kind="notification", since=since, ticket_id=ticket.id):
        return None
    what = {
        "assigned": "was assigned to you",
        "customer_replied": "has a new reply from the customer",
        "sla_warning": "is close to its SLA due time",
        "sla_breach": "has breached its SLA",
    }[event]
    return outbox.enqueue(
        session,
        settings,
        runtime.secret_key,
        SYSTEM,
        kind="notification",
        ticket=ticket,
        in_thread=False,
        to=[agent.email],
        subject=f"[{ticket.ticket_number}] {what}: {ticket.subject}",
        body=(
            f"Ticket {ticket.ticket_number} {what}.\n\n"
            f"Subject: {ticket.subject}\nPriority: {ticket.priority}\nStatus: {ticket.status}\n\n"
            "Open it in hubdesk to read the thread and answer.\n"
        ),
        auto_submitted="auto-generated",
        now=now,
    )
