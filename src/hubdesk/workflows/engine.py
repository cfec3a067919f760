"""Which workflows apply to an email, and how their runs have been going (reads only).

The enabled workflows whose trigger equals the email's classification (or is `*`) and whose
threshold its confidence meets (>=) apply, in order of `position` (`matching`, pure). Running
them is the intake executor's job (`hubdesk.intake.executor.run_workflow`): each run is a
row in `email_workflow_executions` inside a savepoint of its own; the planner
(`hubdesk.intake.planner`) decides which run and what happens when none takes the email.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.db.types import utcnow
from hubdesk.workflows.models import Workflow, WorkflowExecution


class _Matchable(Protocol):
    @property
    def enabled(self) -> bool: ...
    @property
    def classification_trigger(self) -> str: ...
    @property
    def confidence_threshold(self) -> float: ...


def enabled_workflows(session: Session) -> list[Workflow]:
    return list(
        session.scalars(
            select(Workflow)
            .where(Workflow.enabled.is_(True))
            .order_by(Workflow.position, Workflow.id)
        )
    )


W = TypeVar("W", bound=_Matchable)


def matching(workflows: Sequence[W], label: str, confidence: float) -> list[W]:
    """The workflows that apply to a verdict, in order (pure)."""
    return [
        w
        for w in workflows
        if w.enabled
        and w.classification_trigger in (label, "*")
        and confidence >= w.confidence_threshold
    ]


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
