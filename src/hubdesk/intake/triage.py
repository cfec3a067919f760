"""Agents working held mail: the triage queue (no workflow took it, a workflow failed, or the
sender was throttled) and mail the classifier called spam.

An agent can open a ticket from it (for spam: release it), add it
to an existing ticket, or dismiss it. Every decision is audited with the agent's name.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db.paging import Page, paginate
from hubdesk.errors import Conflict, HubdeskError, NotFound, ValidationFailed
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import dispositions, executor, planner, prologue
from hubdesk.intake.types import Mail, MailFlags, Outcome, Progress
from hubdesk.mail.types import ParseRejection
from hubdesk.runtime import Runtime
from hubdesk.tickets.visibility import get_visible_ticket_by_number
from hubdesk.users.permissions import TICKETS_CREATE, TICKETS_VIEW, Principal

KINDS: Final = ("triage", "spam")
ACTIONS: Final = ("create_ticket", "link", "dismiss")


def held(
    session: Session, principal: Principal, kind: str, *, limit: int, offset: int
) -> Page[Any]:
    principal.require(TICKETS_VIEW)
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}")
    statement = select(InboundMessage)
    if kind == "triage":
        statement = statement.where(InboundMessage.queue == dispositions.TRIAGE)
    else:
        statement = statement.where(
            InboundMessage.status == "ignored", InboundMessage.reason.startswith("spam:")
        )
    statement = statement.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
    return paginate(session, statement, limit=limit, offset=offset)


def is_held(row: InboundMessage) -> bool:
    """Whether the mail still waits for a person: in the triage queue, or held as spam."""
    is_spam = row.status == "ignored" and row.reason.startswith("spam:")
    return row.queue == dispositions.TRIAGE or is_spam


def reload_mail(session: Session, runtime: Runtime, row: InboundMessage) -> Mail:
    """The email of a ledger row, parsed again from its kept bytes and threaded anew."""
    parsed = prologue.parse(runtime, inbound.raw_bytes(runtime.blobs, row))
    if isinstance(parsed, ParseRejection):
        raise Conflict(f"inbound message {row.id} no longer parses: {parsed.reason}")
    trust, thread = prologue.thread_of(session, runtime, parsed, row.envelope)
    flags = MailFlags.from_json(row.flags)
    return Mail(parsed, row.id, row.received_at, thread, flags, trust)


def decide(
    session: Session,
    runtime: Runtime,
    actor: Principal,
    row: InboundMessage,
    action: str,
    ticket_number: str | None = None,
) -> Outcome:
    """Act on a held email: the agent's decision replaces the classifier's and the
    workflows' (releasing spam opens a ticket by the built-in smart routing)."""
    actor.require(TICKETS_CREATE)
    if action not in ACTIONS:
        raise ValidationFailed(f"action must be one of {', '.join(ACTIONS)}")
    if not is_held(row):
        raise Conflict(f"inbound message {row.id} is not held (triage or spam)")
    audit.record(
        session,
        actor,
        entity_type="inbound_message",
        entity_id=row.id,
        action=f"triage_{action}",
        changes={"queue": [row.queue or "spam", None], "ticket_number": [None, ticket_number]},
    )
    if action == "dismiss":
        row.queue = None
        return dispositions.ignore(
            session, row, f"dismissed by {actor.email}", dict(row.flags or {})
        )
    if action == "link":
        if not ticket_number:
            raise ValidationFailed("action link needs ticket_number")
        number = ticket_number.strip().upper()
        try:
            get_visible_ticket_by_number(session, actor, number)
        except NotFound:
            raise ValidationFailed(f"ticket {number} does not exist") from None
        plan = planner.decided("link", ticket_number)
    else:
        plan = planner.decided("create_ticket", None)
    mail = reload_mail(session, runtime, row)
    if action == "create_ticket":  # of the team of the mailbox it arrived at, if any
        mail = replace(mail, team_id=prologue.mailbox_team(session, row.envelope, row.mailbox_id))
    try:
        progress, _ = executor.run_steps(
            executor.environment(session, runtime), mail, plan.first, Progress()
        )
    except executor.StepFailed as failure:
        if isinstance(failure.error, HubdeskError):
            raise failure.error from None
        raise
    made = progress.made
    if made is None:  # pragma: no cover - both decisions put the mail on a ticket
        raise Conflict(f"inbound message {row.id} was put on no ticket")
    return dispositions.processed(
        session, row, made, f"{action} by {actor.email}", dict(row.flags or {})
    )
