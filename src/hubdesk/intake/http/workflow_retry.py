"""`POST /api/v1/workflow-executions/{id}/retry`: run a failed workflow run again (intake's
executor runs it; the rest of `/api/v1/workflow-executions` is in `hubdesk.workflows.router`)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from hubdesk.access.deps import PrincipalDep, RuntimeDep
from hubdesk.api.limits import Id
from hubdesk.intake.retry import retry_execution
from hubdesk.users.permissions import WORKFLOWS_MANAGE
from hubdesk.workflows import service
from hubdesk.workflows.router import ExecutionOut

router = APIRouter(tags=["workflows"])


@router.post("/workflow-executions/{execution_id}/retry", response_model=ExecutionOut)
async def retry(execution_id: Id, principal: PrincipalDep, runtime: RuntimeDep) -> ExecutionOut:
    """Run a failed execution's workflow again on its email (a new execution)."""
    principal.require(WORKFLOWS_MANAGE)
    new_id = await run_in_threadpool(retry_execution, runtime, principal, execution_id)
    with runtime.db.transaction(write=False) as session:
        return ExecutionOut.model_validate(service.get_execution(session, new_id))
