"""Running a `RoutePlan`: the one place actions are executed against an email.

Steps run in order inside the caller's transaction; each gets the run's `Progress` and returns
a typed result that the executor folds into the next `Progress`. A step that raises stops its
list with `StepFailed` naming the index and action. Each planned workflow runs in a savepoint
of its own and is recorded in `email_workflow_executions`: a failing step rolls back that
workflow's effects only. `settle` runs a whole plan for the pipeline and records the fate of
the email on its ledger row; after a ticket is made or found come the acknowledgement to the
customer and the notification to the assigned agent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.config import Settings
from hubdesk.db import deferred, reads
from hubdesk.db.memo import memo
from hubdesk.db.types import utcnow
from hubdesk.db.uow import is_transient
from hubdesk.errors import DatabaseUnavailable, StorageUnavailable, ValidationFailed
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import dispositions
from hubdesk.intake.actions import ActionEnv, team_copy
from hubdesk.intake.planner import RoutePlan, Step, WorkflowPlan
from hubdesk.intake.registry import ACTIONS
from hubdesk.intake.types import ActionResult, Mail, Outcome, Progress
from hubdesk.mailboxes.models import MailboxAddress
from hubdesk.outbox import autoreply
from hubdesk.outbox.bounces import record_bounce
from hubdesk.outbox.notify import notify_agent
from hubdesk.runtime import Runtime
from hubdesk.tickets import links as links_
from hubdesk.tickets.models import Ticket
from hubdesk.workflows.engine import recent_failures
from hubdesk.workflows.models import WorkflowExecution

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What one step did, as stored in a workflow execution's `step_results`."""

    index: int
    action: str
    result: ActionResult | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.result is None:
            return {
                "index": self.index,
                "action": self.action,
                "status": "failed",
                "error": self.error,
            }
        return {
            "index": self.index,
            "action": self.action,
            "status": "completed",
            "result": self.result.as_json(),
        }


class StepFailed(Exception):
    """A step raised; `records` holds what the steps up to it did."""

    def __init__(
        self, index: int, action: str, error: BaseException, records: tuple[StepRecord, ...]
    ):
        super().__init__(f"step {index} ({action}) failed: {type(error).__name__}: {error}")
        self.index, self.action, self.error, self.records = index, action, error, records


@dataclass(frozen=True, slots=True)
class WorkflowRun:
    """One workflow run of a plan (its execution row is in the session)."""

    execution: WorkflowExecution
    progress: Progress

    @property
    def completed(self) -> bool:
        return self.execution.status == "completed"


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


def environment(session: Session, runtime: Runtime) -> ActionEnv:
    return ActionEnv(session, runtime, own_addresses(session, runtime.settings))


def run_steps(
    env: ActionEnv, mail: Mail, steps: Sequence[Step], progress: Progress
) -> tuple[Progress, tuple[StepRecord, ...]]:
    records: list[StepRecord] = []
    for index, step in enumerate(steps):
        try:
            result = _run_step(env, mail, step, progress)
        except Exception as exc:
            records.append(StepRecord(index, step.action, error=f"{type(exc).__name__}: {exc}"))
            raise StepFailed(index, step.action, exc, tuple(records)) from exc
        records.append(StepRecord(index, step.action, result))
        progress = progress.after(result)
    return progress, tuple(records)


def _run_step(env: ActionEnv, mail: Mail, step: Step, progress: Progress) -> ActionResult:
    entry = ACTIONS.get(step.action)
    if entry is None:
        raise KeyError(f"unknown action {step.action!r}")
    if step.params is None:
        raise ValidationFailed(step.problem or f"{step.action}: unreadable parameters")
    return entry.run(env, mail, step.params, progress)


def run_workflow(
    env: ActionEnv,
    mail: Mail,
    plan: WorkflowPlan,
    progress: Progress,
    *,
    classification: str,
    confidence: float,
    attempt: int = 1,
    retry_of: WorkflowExecution | None = None,
) -> WorkflowRun:
    """Run one workflow in a savepoint and record the run (writes)."""
    session = env.session
    execution = WorkflowExecution(
        workflow_id=plan.workflow_id,
        workflow_name=plan.name,
        inbound_id=mail.inbound_id,
        classification=classification,
        confidence=confidence,
        status="running",
        started_at=utcnow(),
        attempt=attempt,
        retry_of_id=retry_of.id if retry_of else None,
    )
    session.add(execution)
    session.flush()
    named = ActionEnv(env.session, env.runtime, env.own_addresses, workflow_name=plan.name)
    position = deferred.mark(session)  # a bulk batch's kept rows and numbers go with it
    try:
        with session.begin_nested():
            after, records = run_steps(named, mail, plan.steps, progress)
    except StepFailed as failure:
        deferred.rollback_to(session, position)
        if isinstance(failure.error, StorageUnavailable):
            raise failure.error from failure
        if is_transient(failure.error):
            raise DatabaseUnavailable(str(failure.error)) from failure
        execution.status = "failed"
        execution.step_results = [r.as_json() for r in failure.records]
        execution.error = str(failure)
        execution.finished_at = utcnow()
        session.flush()
        _alert_if_repeating(session, plan, env.settings.workflow_failure_alert_threshold)
        return WorkflowRun(execution, progress)
    execution.step_results = [r.as_json() for r in records]
    execution.status = "completed"
    execution.ticket_id = after.ticket_id
    execution.finished_at = utcnow()
    session.flush()
    return WorkflowRun(execution, after)


def _alert_if_repeating(session: Session, plan: WorkflowPlan, threshold: int) -> None:
    failures = recent_failures(session, plan.workflow_id, timedelta(hours=1))
    if failures >= threshold:
        log.error(
            "workflow %r failed %s times in the last hour (alert threshold %s)",
            plan.name,
            failures,
            threshold,
        )


def settle(
    session: Session,
    runtime: Runtime,
    row: InboundMessage,
    mail: Mail,
    plan: RoutePlan,
    confidence: float,
) -> Outcome:
    """Run the plan of one email in the pipeline's transaction and record its fate."""
    flags = mail.flags.as_json()
    if plan.ignore is not None:
        return dispositions.ignore(session, row, plan.reason, flags, _bounced(session, mail))
    if plan.settled:
        return dispositions.triage(session, row, plan.reason, flags)
    if plan.thread is not None:
        mail = replace(mail, decision=plan.thread)
    if plan.team is not None:
        mail = replace(mail, team_id=plan.team.team_id)
    env = environment(session, runtime)
    progress, _ = run_steps(env, mail, plan.first, Progress())
    completed: list[str] = []
    failed: list[str] = []
    for workflow in plan.workflows:
        ran = run_workflow(
            env,
            mail,
            workflow,
            progress,
            classification=plan.classification,
            confidence=confidence,
        )
        progress = ran.progress
        (completed if ran.completed else failed).append(workflow.name)
        if ran.completed and workflow.stop_after_match:
            break
    if progress.disposed is not None:
        reason = f"{progress.disposed.kind}: {progress.disposed.reason}"
        return dispositions.ignore(session, row, reason, flags)
    if progress.ticket_id is None:
        if failed:
            names = ", ".join(repr(name) for name in failed)
            return dispositions.triage(session, row, f"workflow {names} failed", flags)
        if plan.fallback_triage is not None:
            return dispositions.triage(session, row, plan.fallback_triage, flags)
        progress, _ = run_steps(env, mail, plan.fallback, progress)
    made = progress.made
    if made is None:  # pragma: no cover - every fallback makes or finds a ticket
        raise RuntimeError("the plan ended without a ticket")
    copies = _team_copies(env, mail, plan, progress)
    sender = plan.team.address if plan.team is not None else None
    facts = follow_up(session, runtime, env, mail, progress, from_address=sender)
    acks = [facts["auto_reply"]] if "auto_reply" in facts else []
    for copy, done in zip(plan.copies, copies, strict=False):
        more = follow_up(session, runtime, env, mail, done, from_address=copy.address)
        acks += [f"{done.ticket_number}: {more['auto_reply']}"] if "auto_reply" in more else []
    if len(acks) > 1:  # one acknowledgement per team's ticket, each with its own number
        facts["auto_reply"] = "; ".join(acks)
    reason = mail.decision.reason
    if completed:
        reason += f"; workflows: {', '.join(completed)}"
    extra: dict[str, Any] = {}
    if copies:
        extra["team_tickets"] = [c.ticket_number for c in copies if c.ticket_number]
    return dispositions.processed(session, row, made, reason, {**flags, **facts, **extra})


def _team_copies(env: ActionEnv, mail: Mail, plan: RoutePlan, progress: Progress) -> list[Progress]:
    """The other teams' tickets of the plan (`hubdesk.intake.teams`): opened when the route
    opened one, added to when it linked the reply; opened ones are linked to each other."""
    if not plan.copies:
        return []
    opens = progress.created and plan.copies[0].ticket_id is None
    links = progress.linked and not progress.created and plan.copies[0].ticket_id is not None
    if not (opens or links):
        return []
    done = [Progress().after(team_copy(env, mail, copy)) for copy in plan.copies]
    if opens:
        made = [reads.get(env.session, Ticket, p.ticket_id) for p in (progress, *done)]
        links_.link_all(
            env.session,
            [t for t in made if t is not None],
            "same_email",
            inbound_id=mail.inbound_id,
        )
    return done


def _bounced(session: Session, mail: Mail) -> int | None:
    parsed = mail.parsed
    if not parsed.bounce:
        return None
    ticket_id = record_bounce(session, parsed, mail.received_at)
    return ticket_id or dispositions.bounced_ticket(session, parsed.bounce_original_message_id)


def follow_up(
    session: Session,
    runtime: Runtime,
    env: ActionEnv,
    mail: Mail,
    progress: Progress,
    *,
    from_address: str | None = None,
) -> dict[str, str]:
    found = progress.ticket_id
    ticket = reads.get(session, Ticket, found) if found is not None else None
    if ticket is None:
        return {}
    facts: dict[str, str] = {}
    if progress.created:
        # One acknowledgement per ticket (each team's, docs/teams.md), naming its number,
        # from the team's mailbox address the mail was sent to, so the answer threads there.
        _queued, why = autoreply.acknowledge(
            session,
            runtime,
            ticket,
            mail.parsed,
            env.own_addresses,
            mail.received_at,
            from_address=from_address,
        )
        facts["auto_reply"] = why
        if ticket.assigned_to_user_id is not None:
            notify_agent(session, runtime, ticket, event="assigned", now=mail.received_at)
    elif mail.sender not in env.own_addresses:
        notify_agent(session, runtime, ticket, event="customer_replied", now=mail.received_at)
    return facts
