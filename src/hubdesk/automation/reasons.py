"""Why the automation changed a ticket, stored as message keys with parameters (pure).

The SLA escalations' run log (`hubdesk.sla.escalations`: what each action of a warning or a
breach did) is written with the same parts, the `sla_` keys below, in the ticket's
`sla_warning` / `sla_breached` audit row (`"actions": [None, [<part>, ...]]`).

An automatic change's audit row carries `"reason": [None, <reason>]`, where a reason is a list
of parts, each `{"message": <key of MESSAGES>, "params": {...}}`; a parameter may itself be a
part (the reminder's "queued outbox message 7 to x@y"). The words are chosen when the row is
read: `english` gives the sentence the logs and the API's readers get, and the ticket page
translates each part into the reader's language (`hubdesk.web.ui.timeline`, through
`labels.AUTOMATION_REASON`, which is this table). Rows written before this module (a plain
English sentence) are shown as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

MESSAGES: Final = {
    "snooze_ended": "the snooze ended",
    "auto_resolved": (
        "waited {days} days for the customer without an answer "
        "(TICKET_PENDING_AUTO_RESOLVE_DAYS={days})"
    ),
    "auto_closed": (
        "resolved {days} days ago without a customer reply (TICKET_AUTO_CLOSE_DAYS={days})"
    ),
    "reminded": "waited {days} days for the customer (TICKET_PENDING_REMINDER_DAYS={days}): {sent}",
    "reminder_queued": "queued outbox message {outbox_id} to {address}",
    "reminder_no_contact": "no contact to remind",
    "reminder_no_smtp": "not sent: SMTP_HOST is not set",
    "round_robin": "round robin among the available agents of {group}",
    "least_open": "least open tickets ({count}) among the available agents of {group}",
    "no_group": "group {group} does not exist",
    "nobody_available": "no available agent in group {group}",
    "team_nobody_available": (
        "no available agent in team {team}: left unassigned (a ticket of a team is only "
        "assigned to that team's members)"
    ),
    "default_assignee": "the default assignee",
    "default_unavailable": "the default assignee (user {user_id}) is inactive or unavailable",
    "no_assignee": "no assignee configured",
    # The SLA escalations' log: one part per action, its result a part too.
    "sla_notify_assignee": "notify the assignee: {result}",
    "sla_raise_priority": "raise the priority: {result}",
    "sla_notify_group": "notify group {group}: {result}",
    "sla_reassign": "reassign: {result}",
    "sla_other_action": "{action}: {result}",
    "sla_no_assignee": "no assignee",
    "sla_queued": "queued outbox message {outbox_id}",
    "sla_not_sent": "not sent (see settings)",
    "sla_priority_already": "already {priority}",
    "sla_priority_raised": "{before} -> {after}",
    "priority_low": "low",
    "priority_normal": "normal",
    "priority_high": "high",
    "priority_critical": "critical",
    "sla_group_queued": "queued outbox messages {outbox_ids} to {group}",
    "sla_group_nobody": (
        "nobody in {group} notified (no active member takes notifications, see settings)"
    ),
    "sla_user_inactive": "user {user_id} does not exist or is inactive: not reassigned",
    "sla_not_reassigned": "{why}: not reassigned",
    "sla_already_assigned": "already assigned to user {user_id}",
    "sla_reassigned": "user {before} -> user {user_id}",
    "sla_reassigned_why": "user {before} -> user {user_id} ({why})",
    "sla_assigned": "unassigned -> user {user_id}",
    "sla_assigned_why": "unassigned -> user {user_id} ({why})",
    "sla_unknown_action": "unknown action",
}
"""Every reason's English template, by key."""

Part = dict[str, Any]
Translate = Callable[..., str]


def part(message: str, **params: Any) -> Part:
    """One part of a reason; `message` must be a key of MESSAGES."""
    if message not in MESSAGES:
        raise KeyError(f"unknown automation reason {message!r}")
    return {"message": message, "params": params}


def english(reason: Any) -> str:
    """The reason as an English sentence (the parts joined by "; ")."""
    return render(reason, lambda template, **fields: template.format(**fields))


def render(reason: Any, translate: Translate) -> str:
    """The reason with each part's template passed through `translate(template, **params)`;
    a stored string (a row older than the keys) or an unknown part as it is."""
    if isinstance(reason, str):
        return reason
    if isinstance(reason, Mapping):
        return _one(reason, translate)
    if isinstance(reason, list):
        return "; ".join(render(item, translate) for item in reason)
    return str(reason)


def _one(found: Mapping[str, Any], translate: Translate) -> str:
    template = MESSAGES.get(str(found.get("message")))
    params = found.get("params")
    if template is None or not isinstance(params, Mapping):
        return str(dict(found))
    fields = {key: render(value, translate) for key, value in params.items()}
    try:
        return translate(template, **fields)
    except (KeyError, IndexError, ValueError):
        return template
