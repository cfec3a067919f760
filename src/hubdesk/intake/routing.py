"""Routing an email that will be handled: to a ticket, through workflows, or to triage.

Mail that threads to a ticket is linked first; with workflows enabled the ones matching the
classification run next (a reply's class is `reply`). Mail that threads nowhere opens a
ticket by the built-in smart routing, or through workflows, with EMAIL_WORKFLOWS_FALLBACK
deciding when none matched. A sender over TICKET_NEW_PER_SENDER_PER_HOUR, or mail whose
workflows all failed, waits in triage: kept, visible, never lost. After a ticket is made
or found: the acknowledgement to the customer and the notification to the assigned agent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.classifier.rules import Verdict
from hubdesk.config import Settings
from hubdesk.db.memo import memo
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import dispositions
from hubdesk.intake.actions import ActionEnv, RunState
from hubdesk.intake.record import Mail
from hubdesk.intake.steps import run_steps
from hubdesk.intake.types import Outcome
from hubdesk.mailboxes.models import MailboxAddress
from hubdesk.outbox import autoreply
from hubdesk.outbox.notify import notify_agent
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import EmailLog, Ticket
from hubdesk.workflows import engine
from hubdesk.workflows.models import Workflow

DEFAULT_ROUTE: Final = ({"action": "create_ticket", "params": {}},)


def own_addresses(session: Session, settings: Settings) -> frozenset[str]:
    """Our domain, our sender address and every mailbox address: never a customer (read
    once per transaction, so once per bulk batch)."""
    addresses = memo(
        session,
        "mailbox_addresses",
        lambda: set(session.scalars(select(MailboxAddress.address))),
        depends_on=(MailboxAddress,),
    )
    return frozenset({settings.mail_domain, settings.sender_address.lower(), *addresses})


def route(
    session: Session, runtime: Runtime, row: InboundMessage, mail: Mail, verdict: Verdict
) -> Outcome:
    settings = runtime.settings
    env = ActionEnv(session, runtime, own_addresses(session, settings))
    state = RunState()
    if mail.decision.links:
        run_steps(env, mail, DEFAULT_ROUTE, state)
    elif (throttled := _throttled(session, settings, mail)) is not None:
        return dispositions.triage(session, row, throttled, mail.flags)
    run = engine.EngineRun()
    if settings.email_workflows_enabled:
        workflows = memo(
            session,
            "enabled_workflows",
            lambda: engine.enabled_workflows(session),
            depends_on=(Workflow,),
        )
        run = engine.run(env, mail, verdict, workflows, state)
    if state.disposition is not None:
        kind, reason = state.disposition
        return dispositions.ignore(session, row, f"{kind}: {reason}", mail.flags)
    if state.ticket_id is None:
        if run.failed:
            names = ", ".join(repr(e.workflow_name) for e in run.failed)
            return dispositions.triage(session, row, f"workflow {names} failed", mail.flags)
        if settings.email_workflows_enabled and settings.email_workflows_fallback == "triage":
            return dispositions.triage(
                session, row, f"no workflow took this {verdict.label} email", mail.flags
            )
        run_steps(env, mail, DEFAULT_ROUTE, state)
    flags = {**mail.flags, **_follow_up(session, runtime, env, mail, state)}
    reason = mail.decision.reason
    if run.completed:
        reason += f"; workflows: {', '.join(e.workflow_name for e in run.completed)}"
    return dispositions.processed(session, row, state.result(), reason, flags)


def _throttled(session: Session, settings: Settings, mail: Mail) -> str | None:
    if not mail.sender:
        return None
    since = mail.received_at - timedelta(hours=1)
    opened = session.scalar(
        select(func.count())
        .select_from(EmailLog)
        .where(
            EmailLog.email_from == mail.sender,
            EmailLog.direction == "inbound",
            EmailLog.is_reply.is_(False),
            EmailLog.created_at >= since,
        )
    )
    limit = settings.new_tickets_per_sender_per_hour
    if opened is not None and opened >= limit:
        return (
            f"throttled: {mail.sender} opened {opened} tickets in the last hour "
            f"(TICKET_NEW_PER_SENDER_PER_HOUR={limit})"
        )
    return None


def _follow_up(
    session: Session, runtime: Runtime, env: ActionEnv, mail: Mail, state: RunState
) -> dict[str, str]:
    ticket = session.get(Ticket, state.ticket_id) if state.ticket_id is not None else None
    if ticket is None:
        return {}
    facts: dict[str, str] = {}
    if state.created:
        _queued, why = autoreply.acknowledge(
            session, runtime, ticket, mail.parsed, env.own_addresses, mail.received_at
        )
        facts["auto_reply"] = why
        if ticket.assigned_to_user_id is not None:
            notify_agent(session, runtime, ticket, event="assigned", now=mail.received_at)
    elif mail.sender not in env.own_addresses:
        notify_agent(session, runtime, ticket, event="customer_replied", now=mail.received_at)
    return facts
