"""Why the automation changed a ticket, stored as message keys with parameters (pure).

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
