"""Agents working held mail: the triage queue (no workflow took it, a workflow failed, or the
sender was throttled) and mail the classifier called spam.

An agent can open a ticket from it (for spam: release it), add it
to an existing ticket, or dismiss it. Every decision is audited with the agent's name.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db.paging import Page, paginate
from hubdesk.errors import Conflict, HubdeskError, NotFound, ValidationFailed
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import dispositions
from hubdesk.intake.actions import ActionEnv, RunState
from hubdesk.intake.limits import mail_limits
from hubdesk.intake.record import Mail
from hubdesk.intake.routing import DEFAULT_ROUTE, own_addresses
from hubdesk.intake.signals import thread_signals
from hubdesk.intake.steps import StepFailed, run_steps
from hubdesk.intake.threading import resolve
from hubdesk.intake.trust import sender_trust
from hubdesk.intake.types import Outcome
from hubdesk.mail.parse import parse_email
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
    raw = inbound.raw_bytes(runtime.blobs, row)
    parsed = parse_email(
        raw, mail_limits(runtime.settings), trusted_authserv_id=runtime.settings.trusted_authserv_id
    )
    if isinstance(parsed, ParseRejection):
        raise Conflict(f"inbound message {row.id} no longer parses: {parsed.reason}")
    trust = sender_trust(parsed, row.envelope)
    thread = resolve(
        session,
        parsed,
        thread_signals(parsed),
        policy=runtime.settings.ticket_threading_policy,
        secret_key=runtime.secret_key,
        trust=trust,
    )
    return Mail(parsed, row.id, row.received_at, thread, dict(row.flags or {}), trust)


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
    mail = reload_mail(session, runtime, row)
    env = ActionEnv(session, runtime, own_addresses(session, runtime.settings))
    state = RunState()
    steps: Any = DEFAULT_ROUTE
    if action == "link":
        if not ticket_number:
            raise ValidationFailed("action link needs ticket_number")
        number = ticket_number.strip().upper()
        try:
            get_visible_ticket_by_number(session, actor, number)
        except NotFound:
            raise ValidationFailed(f"ticket {number} does not exist") from None
        steps = ({"action": "link_email_to_ticket", "params": {"ticket_number": ticket_number}},)
    try:
        run_steps(env, mail, steps, state)
    except StepFailed as failure:
        if isinstance(failure.error, HubdeskError):
            raise failure.error from None
        raise
    return dispositions.processed(
        session, row, state.result(), f"{action} by {actor.email}", dict(row.flags or {})
    )
