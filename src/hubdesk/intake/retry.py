"""Retrying a failed workflow run on the email it failed on (a new run, linked to the old).

The workflow is planned (`planner.workflow_plan`) and run (`executor.run_workflow`) exactly as
ingest plans and runs it; only the starting progress differs (a reply's ticket).
"""

from __future__ import annotations

from hubdesk.audit import service as audit
from hubdesk.errors import Conflict, NotFound
from hubdesk.inbound import service as inbound
from hubdesk.intake import dispositions, executor, planner
from hubdesk.intake.triage import reload_mail
from hubdesk.intake.types import Progress, TicketMade
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import WORKFLOWS_MANAGE, Principal
from hubdesk.workflows.models import Workflow
from hubdesk.workflows.service import get_execution


def retry_execution(runtime: Runtime, actor: Principal, execution_id: int) -> int:
    """Run the failed execution's workflow again; returns the new execution's id."""
    actor.require(WORKFLOWS_MANAGE)
    with runtime.db.transaction() as session:
        failed = get_execution(session, execution_id)
        if failed.status != "failed":
            raise Conflict(f"execution {execution_id} is {failed.status}; only failed runs retry")
        workflow = session.get(Workflow, failed.workflow_id) if failed.workflow_id else None
        if workflow is None:
            raise NotFound(f"the workflow of execution {execution_id} no longer exists")
        if failed.inbound_id is None:
            raise NotFound(f"the email of execution {execution_id} no longer exists")
        row = inbound.lock(session, failed.inbound_id)
        waiting = row.queue == dispositions.TRIAGE
        on_reply = failed.classification == "reply" and row.ticket_id is not None
        if not (waiting or on_reply):
            # Someone decided this email since (dismissed it, or opened its ticket by hand):
            # running the workflow again could make a second ticket for it.
            raise Conflict(
                f"the email of execution {execution_id} no longer waits in triage "
                f"({row.status}: {row.reason[:200]}); there is nothing to retry"
            )
        mail = reload_mail(session, runtime, row)
        progress = Progress()
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
        if ticket is not None:
            progress = progress.after(
                TicketMade(ticket.id, ticket.ticket_number, created=False, linked=True)
            )
        ran = executor.run_workflow(
            executor.environment(session, runtime),
            mail,
            planner.workflow_plan(workflow),
            progress,
            classification=failed.classification,
            confidence=failed.confidence,
            attempt=failed.attempt + 1,
            retry_of=failed,
        )
        execution, progress = ran.execution, ran.progress
        audit.record(
            session,
            actor,
            entity_type="workflow_execution",
            entity_id=execution.id,
            action="retried",
            changes={"retry_of": [None, failed.id], "status": [None, execution.status]},
        )
        if execution.status == "completed" and row.queue == dispositions.TRIAGE:
            if progress.disposed is not None:
                row.queue = None
                reason = f"{progress.disposed.kind}: {progress.disposed.reason}"
                dispositions.ignore(session, row, reason, dict(row.flags))
            elif (made := progress.made) is not None:
                dispositions.processed(
                    session, row, made, f"retry of execution {failed.id}", dict(row.flags)
                )
        return execution.id
