"""`/api/v1/workflows` and `/api/v1/workflow-executions`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, Out, page_of
from hubdesk.users.permissions import WORKFLOWS_MANAGE
from hubdesk.workflows import catalog, service
from hubdesk.workflows.catalog import WorkflowIn

router = APIRouter(tags=["workflows"])


class WorkflowOut(Out):
    id: int
    name: str
    description: str
    classification_trigger: str
    confidence_threshold: float
    workflow_steps: list[dict[str, Any]]
    enabled: bool
    position: int
    stop_after_match: bool
    created_at: datetime
    updated_at: datetime


class ExecutionOut(Out):
    id: int
    workflow_id: int | None
    workflow_name: str
    inbound_id: int | None
    classification: str
    confidence: float
    status: str
    step_results: list[dict[str, Any]]
    error: str | None
    ticket_id: int | None
    attempt: int
    retry_of_id: int | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime


@router.get("/workflows", response_model=ListOf[WorkflowOut])
def list_workflows(
    session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[WorkflowOut]:
    principal.require(WORKFLOWS_MANAGE)
    return page_of(
        WorkflowOut, service.list_workflows(session, limit=paging.limit, offset=paging.offset)
    )


@router.post("/workflows", response_model=WorkflowOut, status_code=201)
def create_workflow(body: WorkflowIn, session: SessionDep, principal: PrincipalDep) -> WorkflowOut:
    return WorkflowOut.model_validate(service.create(session, principal, body))


@router.post("/workflows/validate")
def validate_workflow(
    body: WorkflowIn, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Check a workflow without saving it: 200 with the normalised steps, or 422."""
    principal.require(WORKFLOWS_MANAGE)
    return {"valid": True, "workflow_steps": catalog.validate(session, body)}


@router.get("/workflows/actions")
def list_actions(principal: PrincipalDep) -> list[dict[str, Any]]:
    """Every action a step may use, with its parameter schema."""
    principal.require(WORKFLOWS_MANAGE)
    return list(catalog.describe_actions())


@router.get("/workflows/{workflow_id}", response_model=WorkflowOut)
def get_workflow(workflow_id: Id, session: SessionDep, principal: PrincipalDep) -> WorkflowOut:
    principal.require(WORKFLOWS_MANAGE)
    return WorkflowOut.model_validate(service.get(session, workflow_id))


@router.put("/workflows/{workflow_id}", response_model=WorkflowOut)
def update_workflow(
    workflow_id: Id, body: WorkflowIn, session: SessionDep, principal: PrincipalDep
) -> WorkflowOut:
    principal.require(WORKFLOWS_MANAGE)
    workflow = service.get(session, workflow_id)
    return WorkflowOut.model_validate(service.update(session, principal, workflow, body))


@router.delete("/workflows/{workflow_id}", status_code=204)
def delete_workflow(workflow_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    principal.require(WORKFLOWS_MANAGE)
    service.delete(session, principal, service.get(session, workflow_id))
    return Response(status_code=204)


@router.get("/workflow-executions", response_model=ListOf[ExecutionOut])
def list_executions(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    status: Literal["pending", "running", "completed", "failed", "skipped"] | None = None,
    workflow_id: Id | None = None,
    inbound_id: Id | None = None,
) -> ListOf[ExecutionOut]:
    principal.require(WORKFLOWS_MANAGE)
    page = service.list_executions(
        session,
        status=status,
        workflow_id=workflow_id,
        inbound_id=inbound_id,
        limit=paging.limit,
        offset=paging.offset,
    )
    return page_of(ExecutionOut, page)


@router.get("/workflow-executions/{execution_id}", response_model=ExecutionOut)
def get_execution(execution_id: Id, session: SessionDep, principal: PrincipalDep) -> ExecutionOut:
    principal.require(WORKFLOWS_MANAGE)
    return ExecutionOut.model_validate(service.get_execution(session, execution_id))
