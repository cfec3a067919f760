"""The workflow engine: which workflows run on an email, running them, recording each run.

The enabled workflows whose trigger equals the email's classification (or is `*`) and whose
threshold its confidence meets (>=) run in order of `position`. Each run is a row in
`email_workflow_executions` and runs inside a savepoint: a failing step rolls back that
workflow's effects only, the run is recorded as failed with the step and the error, and the
email still ends in a defined state (the pipeline puts it in triage when nothing took it).
A run that completes stops the later ones unless its `stop_after_match` is false.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.classifier.rules import Verdict
from hubdesk.db.types import utcnow
from hubdesk.db.uow import is_transient
from hubdesk.errors import DatabaseUnavailable
from hubdesk.intake.actions import ActionEnv, RunState
from hubdesk.intake.record import Mail
from hubdesk.intake.steps import StepFailed, run_steps
from hubdesk.workflows.models import Workflow, WorkflowExecution

log = logging.getLogger(__name__)


@dataclass
class EngineRun:
    executions: list[WorkflowExecution] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.executions)

    @property
    def failed(self) -> list[WorkflowExecution]:
        return [e for e in self.executions if e.status == "failed"]

    @property
    def completed(self) -> list[WorkflowExecution]:
        return [e for e in self.executions if e.status == "completed"]


def enabled_workflows(session: Session) -> list[Workflow]:
    return list(
        session.scalars(
            select(Workflow)
            .where(Workflow.enabled.is_(True))
            .order_by(Workflow.position, Workflow.id)
        )
    )


def matching(workflows: Sequence[Workflow], label: str, confidence: float) -> list[Workflow]:
    """The workflows that apply to a verdict, in order (pure)."""
    return [
        w
        for w in workflows
        if w.enabled
        and w.classification_trigger in (label, "*")
        and confidence >= w.confidence_threshold
    ]


def run(
    env: ActionEnv,
    mail: Mail,
    verdict: Verdict,
    workflows: Sequence[Workflow],
    state: RunState,
    *,
    attempt: int = 1,
    retry_of: WorkflowExecution | None = None,
) -> EngineRun:
    result = EngineRun()
    for workflow in matching(workflows, verdict.label, verdict.confidence):
        execution = execute(env, mail, verdict, workflow, state, attempt=attempt, retry_of=retry_of)
        result.executions.append(execution)
        if execution.status == "completed" and workflow.stop_after_match:
            break
    return result


def execute(
    env: ActionEnv,
    mail: Mail,
    verdict: Verdict,
    workflow: Workflow,
    state: RunState,
    *,
    attempt: int = 1,
    retry_of: WorkflowExecution | None = None,
) -> WorkflowExecution:
    """Run one workflow in a savepoint and record the run (writes)."""
    session = env.session
    execution = WorkflowExecution(
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        inbound_id=mail.inbound_id,
        classification=verdict.label,
        confidence=verdict.confidence,
        status="running",
        started_at=utcnow(),
        attempt=attempt,
        retry_of_id=retry_of.id if retry_of else None,
    )
    session.add(execution)
    session.flush()
    before = state.snapshot()
    named = ActionEnv(env.session, env.runtime, env.own_addresses, workflow_name=workflow.name)
    try:
        with session.begin_nested():
            execution.step_results = run_steps(named, mail, workflow.workflow_steps, state)
    except StepFailed as failure:
        if is_transient(failure.error):
            raise DatabaseUnavailable(str(failure.error)) from failure
        _restore(state, before)
        execution.status = "failed"
        execution.step_results = failure.results
        execution.error = str(failure)
        execution.finished_at = utcnow()
        session.flush()
        _alert_if_repeating(session, workflow, env.settings.workflow_failure_alert_threshold)
        return execution
    execution.status = "completed"
    execution.ticket_id = state.ticket_id
    execution.finished_at = utcnow()
    session.flush()
    return execution


def _restore(state: RunState, before: RunState) -> None:
    state.ticket_id, state.ticket_number = before.ticket_id, before.ticket_number
    state.created, state.linked = before.created, before.linked
    state.disposition, state.notes = before.disposition, before.notes


def recent_failures(session: Session, workflow_id: int, within: timedelta) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(WorkflowExecution)
            .where(
                WorkflowExecution.workflow_id == workflow_id,
                WorkflowExecution.status == "failed",
                WorkflowExecution.created_at >= utcnow() - within,
            )
        )
        or 0
    )


def _alert_if_repeating(session: Session, workflow: Workflow, threshold: int) -> None:
    failures = recent_failures(session, workflow.id, timedelta(hours=1))
    if failures >= threshold:
        log.error(
            "workflow %r failed %s times in the last hour (alert threshold %s)",
            workflow.name,
            failures,
            threshold,
        )


def alerts(session: Session, threshold: int) -> list[dict[str, object]]:
    """Workflows that failed at least `threshold` times in the last hour (for health/UI)."""
    since = utcnow() - timedelta(hours=1)
    rows = session.execute(
        select(WorkflowExecution.workflow_id, WorkflowExecution.workflow_name, func.count())
        .where(WorkflowExecution.status == "failed", WorkflowExecution.created_at >= since)
        .group_by(WorkflowExecution.workflow_id, WorkflowExecution.workflow_name)
        .having(func.count() >= threshold)
    ).all()
    return [
        {
            "workflow_id": workflow_id,
            "workflow": name,
            "failures_last_hour": count,
            "message": f"workflow {name!r} failed {count} times in the last hour",
        }
        for workflow_id, name, count in rows
    ]
