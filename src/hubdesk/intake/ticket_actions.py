"""Workflow actions that act on the current ticket, and the two that make no ticket.

Each takes the run's state: the ticket an earlier step made or found (`create_ticket`,
`link_email_to_ticket`), or the one a reply was linked to. Writes go through the ticket
services, so status rules, tag rules and audit rows are the same as everywhere else; the
audit names the workflow as the actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hubdesk.errors import ValidationFailed
from hubdesk.intake.actions import ActionEnv, ActionResult, RunState
from hubdesk.intake.record import Mail
from hubdesk.outbox import autoreply
from hubdesk.tickets import comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.tags import normalize_tags
from hubdesk.users.permissions import ALL_PERMISSIONS, Principal

WORKFLOW_ACTOR: Final = "workflow"


def _actor(env: ActionEnv) -> Principal:
    return Principal(
        user_id=None,
        email=f"{WORKFLOW_ACTOR}:{env.workflow_name or 'built-in'}",
        permissions=frozenset(ALL_PERMISSIONS),
    )


def _ticket(env: ActionEnv, state: RunState, action: str) -> Ticket:
    ticket = env.session.get(Ticket, state.ticket_id) if state.ticket_id is not None else None
    if ticket is None:
        raise ValidationFailed(
            f"{action} acts on a ticket, but no earlier step made or found one; put "
            "create_ticket or link_email_to_ticket before it"
        )
    return ticket


def _update(env: ActionEnv, state: RunState, action: str, changes: dict[str, Any]) -> ActionResult:
    ticket = _ticket(env, state, action)
    tickets.update_ticket(env.session, _actor(env), ticket, changes)
    return {"ticket_id": ticket.id, **{k: getattr(ticket, k) for k in changes}}


def assign_ticket(
    env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState
) -> ActionResult:
    return _update(
        env, state, "assign_ticket", {"assigned_to_user_id": params["assigned_to_user_id"]}
    )


def set_priority(
    env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState
) -> ActionResult:
    return _update(env, state, "set_priority", {"priority": params["priority"]})


def set_status(
    env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState
) -> ActionResult:
    return _update(env, state, "set_status", {"status": params["status"]})


def set_customer(
    env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState
) -> ActionResult:
    return _update(env, state, "set_customer", {"customer_id": params["customer_id"]})


def add_tags(
    env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState
) -> ActionResult:
    ticket = _ticket(env, state, "add_tags")
    wanted = normalize_tags([*ticket.tags, *params["tags"]])
    tickets.update_ticket(env.session, _actor(env), ticket, {"tags": wanted})
    return {"ticket_id": ticket.id, "tags": ticket.tags}


def add_internal_note(
    env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState
) -> ActionResult:
    ticket = _ticket(env, state, "add_internal_note")
    note = comments.add_comment(
        env.session, _actor(env), ticket, params["body"], internal=True, source="system"
    )
    return {"ticket_id": ticket.id, "comment_id": note.id}


def send_auto_reply(
    env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState
) -> ActionResult:
    """Queue the template to the sender; the loop defence may suppress it (not a failure)."""
    ticket = _ticket(env, state, "send_auto_reply")
    row, reason = autoreply.acknowledge(
        env.session,
        env.runtime,
        ticket,
        mail.parsed,
        env.own_addresses,
        mail.received_at,
        template_key=params.get("template", autoreply.TEMPLATE_KEY),
        language=params.get("language", "auto"),
        explicit=True,
    )
    return {
        "ticket_id": ticket.id,
        "queued": row is not None,
        "outbox_id": row.id if row else None,
        "reason": reason,
    }


def _no_ticket(state: RunState, kind: str, reason: str, action: str) -> ActionResult:
    if state.ticket_id is not None:
        raise ValidationFailed(f"{action} cannot follow a step that made or found a ticket")
    state.disposition = (kind, reason)
    return {"disposition": kind, "reason": reason}


def mark_spam(
    env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState
) -> ActionResult:
    return _no_ticket(state, "spam", params.get("reason") or "marked as spam", "mark_spam")


def ignore(env: ActionEnv, mail: Mail, params: Mapping[str, Any], state: RunState) -> ActionResult:
    return _no_ticket(state, "ignored", params.get("reason") or "ignored by a workflow", "ignore")
