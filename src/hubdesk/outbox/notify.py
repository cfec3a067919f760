"""Telling agents by mail: a new ticket assigned to them, a customer reply on their ticket.

At most one notification per ticket per NOTIFY_MIN_INTERVAL_MINUTES, none to users who turned
them off (`notify_by_email`, all of them; or the event's own choice on "My account":
`notify_on_assigned`, `notify_on_customer_reply`, `notify_on_mention`, `notify_on_sla`,
`wants_notification`) or are inactive, and none when NOTIFY_AGENTS is off or no SMTP server
is configured. Notifications are `Auto-Submitted: auto-generated`.

Each is written in the agent's language (`users.language`: English or Danish) and links to
the ticket at HUBDESK_PUBLIC_URL (`<url>/tickets/<id>`); without that setting it names the
ticket number only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

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
    `sla_breach`, `snooze_ended`) to the assignee."""
    settings = runtime.settings
    if not settings.notify_agents or not settings.smtp_host or ticket.assigned_to_user_id is None:
        return None
    agent = session.get(User, ticket.assigned_to_user_id)
    if agent is None or not wants_notification(agent, event):
        return None
    since = now - timedelta(minutes=settings.notify_min_interval_minutes)
    if outbox.count_since(session, kind="notification", since=since, ticket_id=ticket.id):
        return None
    return notify_user(session, runtime, ticket, agent, event=event, now=now)


def notify_user(
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    agent: User,
    *,
    event: str,
    now: datetime,
) -> OutboxMessage | None:
    """Queue a notification of `event` to `agent` (any agent, e.g. a group's member), without
    the per-ticket interval: the caller fires each event once (SLA escalations, the worker's
    automation). None when notifications are off or the agent takes none."""
    settings = runtime.settings
    if not settings.notify_agents or not settings.smtp_host:
        return None
    if not agent.active or not agent.notify_by_email:
        return None
    text = NOTIFICATION.get(agent.language, NOTIFICATION["en"])
    what = text[event]
    link = (
        text["link"].format(url=f"{settings.public_url}/tickets/{ticket.id}")
        if settings.public_url
        else text["no_link"]
    )
    fields = {
        "number": ticket.ticket_number,
        "what": what,
        "subject": ticket.subject,
        "priority": text["priorities"].get(ticket.priority, ticket.priority),
        "status": text["statuses"].get(ticket.status, ticket.status),
        "link": link,
    }
    return outbox.enqueue(
        session,
        settings,
        runtime.secret_key,
        SYSTEM,
        kind="notification",
        ticket=ticket,
        in_thread=False,
        to=[agent.email],
        subject=text["subject"].format(**fields),
        body=text["body"].format(**fields),
        auto_submitted="auto-generated",
        now=now,
    )


EVENT_CHOICE: Final = {
    "assigned": "notify_on_assigned",
    "customer_replied": "notify_on_customer_reply",
    "mention": "notify_on_mention",
    "sla_warning": "notify_on_sla",
    "sla_breach": "notify_on_sla",
}
"""The user's column that says whether they want mail of each event."""


def wants_notification(user: User, event: str) -> bool:
    """Whether `user` gets mail of `event`: active, notifications on, and that event's own
    choice on (an event without a choice of its own follows `notify_by_email` alone)."""
    if not user.active or not user.notify_by_email:
        return False
    choice = EVENT_CHOICE.get(event)
    return choice is None or bool(getattr(user, choice))


NOTIFICATION: Final[dict[str, dict[str, Any]]] = {
    "en": {
        "assigned": "was assigned to you",
        "customer_replied": "has a new reply from the customer",
        "sla_warning": "is close to its SLA due time",
        "sla_breach": "has breached its SLA",
        "snooze_ended": "was snoozed and is back in the open list",
        "subject": "[{number}] {what}: {subject}",
        "body": (
            "Ticket {number} {what}.\n\nSubject: {subject}\nPriority: {priority}\n"
            "Status: {status}\n\n{link}\n"
        ),
        "link": "Open it to read the thread and answer: {url}",
        "no_link": "Open it in hubdesk to read the thread and answer.",
        "priorities": {"low": "Low", "normal": "Normal", "high": "High", "critical": "Critical"},
        "statuses": {
            "open": "Open",
            "in_progress": "In progress",
            "waiting_customer": "Waiting for customer",
            "waiting_internal": "Waiting internally",
            "resolved": "Resolved",
            "closed": "Closed",
        },
    },
    "da": {
        "assigned": "er tildelt dig",
        "customer_replied": "har fået et nyt svar fra kunden",
        "sla_warning": "er tæt på sin SLA-frist",
        "sla_breach": "har overskredet sin SLA-frist",
        "snooze_ended": "var udsat og er tilbage på listen over åbne sager",
        "subject": "[{number}] {what}: {subject}",
        "body": (
            "Sag {number} {what}.\n\nEmne: {subject}\nPrioritet: {priority}\n"
            "Status: {status}\n\n{link}\n"
        ),
        "link": "Åbn den for at læse tråden og svare: {url}",
        "no_link": "Åbn den i hubdesk for at læse tråden og svare.",
        "priorities": {"low": "Lav", "normal": "Normal", "high": "Høj", "critical": "Kritisk"},
        "statuses": {
            "open": "Åben",
            "in_progress": "I gang",
            "waiting_customer": "Afventer kunde",
            "waiting_internal": "Afventer internt",
            "resolved": "Løst",
            "closed": "Lukket",
        },
    },
}
"""The notification's words in each agent language (English is the fallback)."""
