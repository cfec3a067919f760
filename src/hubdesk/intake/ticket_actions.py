"""Workflow actions that act on the current ticket, and the two that make no ticket.

Each receives its typed parameters (`hubdesk.workflows.params`) and the run's `Progress`: the
ticket an earlier step made or found (`create_ticket`, `link_email_to_ticket`), or the one a
reply was linked to. Writes go through the ticket services, so status rules, tag rules and
audit rows are the same as everywhere else; the audit names the workflow as the actor.
"""

from __future__ import annotations

from typing import Final

from hubdesk.db import reads
from hubdesk.errors import ValidationFailed
from hubdesk.intake.actions import ActionEnv
from hubdesk.intake.types import (
    AutoReplyQueued,
    Disposed,
    JsonScalar,
    Mail,
    NoteAdded,
    Progress,
    TicketChanged,
)
from hubdesk.outbox import autoreply
from hubdesk.tickets import comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.tags import normalize_tags
from hubdesk.users.permissions import ALL_PERMISSIONS, Principal
from hubdesk.workflows import params as p

WORKFLOW_ACTOR: Final = "workflow"


def _actor(env: ActionEnv) -> Principal:
    return Principal(
        user_id=None,
        email=f"{WORKFLOW_ACTOR}:{env.workflow_name or 'built-in'}",
        permissions=frozenset(ALL_PERMISSIONS),
    )


def _ticket(env: ActionEnv, progress: Progress, action: str) -> Ticket:
    found = progress.ticket_id
    ticket = reads.get(env.session, Ticket, found) if found is not None else None
    if ticket is None:
        raise ValidationFailed(
            f"{action} acts on a ticket, but no earlier step made or found one; put "
            "create_ticket or link_email_to_ticket before it"
        )
    return ticket


def _update(
    env: ActionEnv, progress: Progress, action: str, field: str, value: JsonScalar
) -> TicketChanged:
    ticket = _ticket(env, progress, action)
    tickets.update_ticket(env.session, _actor(env), ticket, {field: value})
    return TicketChanged(ticket.id, ((field, getattr(ticket, field)),))


def assign_ticket(
    env: ActionEnv, mail: Mail, params: p.AssignTicket, progress: Progress
) -> TicketChanged:
    return _update(
        env, progress, "assign_ticket", "assigned_to_user_id", params.assigned_to_user_id
    )


def set_priority(
    env: ActionEnv, mail: Mail, params: p.SetPriority, progress: Progress
) -> TicketChanged:
    return _update(env, progress, "set_priority", "priority", params.priority)


def set_status(
    env: ActionEnv, mail: Mail, params: p.SetStatus, progress: Progress
) -> TicketChanged:
    return _update(env, progress, "set_status", "status", params.status)


def set_customer(
    env: ActionEnv, mail: Mail, params: p.SetCustomer, progress: Progress
) -> TicketChanged:
    return _update(env, progress, "set_customer", "customer_id", params.customer_id)


def add_tags(env: ActionEnv, mail: Mail, params: p.AddTags, progress: Progress) -> TicketChanged:
    ticket = _ticket(env, progress, "add_tags")
    wanted = normalize_tags([*ticket.tags, *params.tags])
    tickets.update_ticket(env.session, _actor(env), ticket, {"tags": wanted})
    return TicketChanged(ticket.id, (("tags", tuple(ticket.tags)),))


def add_internal_note(
    env: ActionEnv, mail: Mail, params: p.AddInternalNote, progress: Progress
) -> NoteAdded:
    ticket = _ticket(env, progress, "add_internal_note")
    note = comments.add_comment(
        env.session, _actor(env), ticket, params.body, internal=True, source="system"
    )
    return NoteAdded(ticket.id, note.id)


def send_auto_reply(
    env: ActionEnv, mail: Mail, params: p.SendAutoReply, progress: Progress
) -> AutoReplyQueued:
    """Queue the template to the sender; the loop defence may suppress it (not a failure)."""
    ticket = _ticket(env, progress, "send_auto_reply")
    row, reason = autoreply.acknowledge(
        env.session,
        env.runtime,
        ticket,
        mail.parsed,
        env.own_addresses,
        mail.received_at,
        template_key=params.template,
        language=params.language,
        explicit=True,
    )
    return AutoReplyQueued(ticket.id, row is not None, row.id if row else None, reason)


def _no_ticket(progress: Progress, disposed: Disposed, action: str) -> Disposed:
    if progress.ticket_id is not None:
        raise ValidationFailed(f"{action} cannot follow a step that made or found a ticket")
    return disposed


def mark_spam(env: ActionEnv, mail: Mail, params: p.MarkSpam, progress: Progress) -> Disposed:
    return _no_ticket(progress, Disposed("spam", params.reason or "marked as spam"), "mark_spam")


def ignore(env: ActionEnv, mail: Mail, params: p.Ignore, progress: Progress) -> Disposed:
    reason = params.reason or "ignored by a workflow"
    return _no_ticket(progress, Disposed("ignored", reason), "ignore")
