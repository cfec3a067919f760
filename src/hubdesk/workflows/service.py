"""Workflows as data: create, change, delete, import and export, and retrying a failed run.

Every write validates the workflow first (`catalog.validate`), so what is stored always runs,
and records an audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db.paging import Page, paginate
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, NotFound, ValidationFailed
from hubdesk.users.permissions import WORKFLOWS_MANAGE, Principal
from hubdesk.workflows.catalog import WorkflowIn, validate
from hubdesk.workflows.models import EXECUTION_STATUSES, Workflow, WorkflowExecution


def as_dict(workflow: Workflow) -> dict[str, Any]:
    """The workflow in the spec's JSON form plus hubdesk's fields (what export writes)."""
    return {
        "name": workflow.name,
        "description": workflow.description,
        "classification_trigger": workflow.classification_trigger,
        "confidence_threshold": workflow.confidence_threshold,
        "workflow_steps": workflow.workflow_steps,
        "enabled": workflow.enabled,
        "position": workflow.position,
        "stop_after_match": workflow.stop_after_match,
    }


def get(session: Session, workflow_id: int) -> Workflow:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} not found")
    return workflow


def list_workflows(session: Session, *, limit: int, offset: int) -> Page[Any]:
    statement = select(Workflow).order_by(Workflow.position, Workflow.id)
    return paginate(session, statement, limit=limit, offset=offset)


def create(session: Session, actor: Principal, data: WorkflowIn) -> Workflow:
    actor.require(WORKFLOWS_MANAGE)
    steps = validate(session, data)
    if session.scalar(select(Workflow.id).where(Workflow.name == data.name)) is not None:
        raise Conflict(f"a workflow named {data.name!r} exists; change it or choose another name")
    position = data.position if data.position is not None else _next_position(session)
    workflow = Workflow(
        name=data.name,
        description=data.description,
        classification_trigger=data.classification_trigger,
        confidence_threshold=data.confidence_threshold,
        workflow_steps=steps,
        enabled=data.enabled,
        position=position,
        stop_after_match=data.stop_after_match,
    )
    session.add(workflow)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="workflow",
        entity_id=workflow.id,
        action="created",
        changes=audit.created(as_dict(workflow)),
    )
    return workflow


def update(session: Session, actor: Principal, workflow: Workflow, data: WorkflowIn) -> Workflow:
    """Replace the workflow's definition (validated as a whole)."""
    actor.require(WORKFLOWS_MANAGE)
    steps = validate(session, data)
    clash = session.scalar(
        select(Workflow.id).where(Workflow.name == data.name, Workflow.id != workflow.id)
    )
    if clash is not None:
        raise Conflict(f"another workflow is named {data.name!r}")
    before = as_dict(workflow)
    workflow.name = data.name
    workflow.description = data.description
    workflow.classification_trigger = data.classification_trigger
    workflow.confidence_threshold = data.confidence_threshold
    workflow.workflow_steps = steps
    workflow.enabled = data.enabled
    if data.position is not None:
        workflow.position = data.position
    workflow.stop_after_match = data.stop_after_match
    workflow.updated_at = utcnow()
    changes = audit.changes_between(before, as_dict(workflow))
    if changes:
        session.flush()
        audit.record(
            session,
            actor,
            entity_type="workflow",
            entity_id=workflow.id,
            action="updated",
            changes=changes,
        )
    return workflow


def delete(session: Session, actor: Principal, workflow: Workflow) -> None:
    actor.require(WORKFLOWS_MANAGE)
    audit.record(
        session,
        actor,
        entity_type="workflow",
        entity_id=workflow.id,
        action="deleted",
        changes={"name": [workflow.name, None]},
    )
    session.delete(workflow)
    session.flush()


def import_workflows(
    session: Session, actor: Principal, documents: Sequence[dict[str, Any]]
) -> list[tuple[str, Workflow]]:
    """Create or replace (by name) each workflow; all or nothing. Returns (verb, workflow)."""
    done: list[tuple[str, Workflow]] = []
    for index, document in enumerate(documents):
        try:
            data = WorkflowIn.model_validate(document)
        except Exception as exc:
            raise ValidationFailed(f"workflow {index} in the file: {exc}") from None
        try:
            existing = session.scalars(select(Workflow).where(Workflow.name == data.name)).first()
            if existing is None:
                done.append(("created", create(session, actor, data)))
            else:
                done.append(("updated", update(session, actor, existing, data)))
        except ValidationFailed as exc:
            raise ValidationFailed(f"workflow {data.name!r}: {exc}") from None
    return done


def _next_position(session: Session) -> int:
    return int(session.scalar(select(func.max(Workflow.position))) or 0) + 10


def get_execution(session: Session, execution_id: int) -> WorkflowExecution:
    execution = session.get(WorkflowExecution, execution_id)
    if execution is None:
        raise NotFound(f"workflow execution {execution_id} not found")
    return execution


def list_executions(
    session: Session,
    *,
    status: str | None,
    workflow_id: int | None,
    inbound_id: int | None,
    limit: int,
    offset: int,
) -> Page[Any]:
    statement = select(WorkflowExecution)
    if status is not None:
        if status not in EXECUTION_STATUSES:
            raise ValidationFailed(
                f"status {status!r} is not valid; use one of {', '.join(EXECUTION_STATUSES)}"
            )
        statement = statement.where(WorkflowExecution.status == status)
    if workflow_id is not None:
        statement = statement.where(WorkflowExecution.workflow_id == workflow_id)
    if inbound_id is not None:
        statement = statement.where(WorkflowExecution.inbound_id == inbound_id)
    statement = statement.order_by(WorkflowExecution.created_at.desc(), WorkflowExecution.id.desc())
    return paginate(session, statement, limit=limit, offset=offset)
