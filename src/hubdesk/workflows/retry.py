"""Retrying a failed workflow run on the email it failed on (a new run, linked to the old)."""

from __future__ import annotations

from hubdesk.audit import service as audit
from hubdesk.classifier.rules import Verdict
from hubdesk.errors import Conflict, NotFound
from hubdesk.inbound import service as inbound
from hubdesk.intake import dispositions
from hubdesk.intake.actions import ActionEnv, RunState
from hubdesk.intake.routing import own_addresses
from hubdesk.intake.triage import reload_mail
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import WORKFLOWS_MANAGE, Principal
from hubdesk.workflows import engine
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
        state = RunState()
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
        if ticket is not None:
            state.on_ticket(ticket, created=False)
        verdict = Verdict(failed.classification, failed.confidence, "retry")
        env = ActionEnv(session, runtime, own_addresses(session, runtime.settings))
        execution = engine.execute(
            env, mail, verdict, workflow, state, attempt=failed.attempt + 1, retry_of=failed
        )
        audit.record(
            session,
            actor,
            entity_type="workflow_execution",
            entity_id=execution.id,
            action="retried",
            changes={"retry_of": [None, failed.id], "status": [None, execution.status]},
        )
        if execution.status == "completed" and row.queue == dispositions.TRIAGE:
            if state.disposition is not None:
                row.queue = None
                dispositions.ignore(session, row, ": ".join(state.disposition), dict(row.flags))
            elif state.ticket_id is not None:
                dispositions.processed(
                    session, row, state.result(), f"retry of execution {failed.id}", dict(row.flags)
                )
        return execution.id
