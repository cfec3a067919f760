"""Admin → Workflows and Workflow runs (HTTP level): the service's validation shown next to
the form with the values kept, saving, deleting, the failure alert, and retrying a run."""

from __future__ import annotations

import html
import json
from datetime import timedelta

from sqlalchemy import select

from hubdesk.db.types import utcnow
from hubdesk.inbound.models import InboundMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.workflows.models import Workflow, WorkflowExecution
from tests.integration.ui.client import UiClient, flash_of, text_of
from tests.integration.ui.scenario import FUTURE_TICKET, failing_workflow

STEPS_WITH_MISTAKES = [
    {"action": "create_ticket", "params": {"customer_id": 123}},
    {"action": "set_priority", "params": {"priority": "urgent"}},
]


def _workflows(runtime: Runtime) -> list[tuple[str, str, float, int, bool, bool]]:
    with runtime.db.transaction(write=False) as session:
        return [
            (
                w.name,
                w.classification_trigger,
                w.confidence_threshold,
                w.position,
                w.enabled,
                w.stop_after_match,
            )
            for w in session.scalars(select(Workflow).order_by(Workflow.position))
        ]


def test_a_workflow_with_mistakes_is_shown_again_then_saved_changed_and_deleted(
    ui: UiClient, runtime: Runtime
) -> None:
    """A workflow whose steps name a customer that does not exist and a priority that is not
    one comes back (422) with the service's sentences for each step and every value as
    entered, and nothing is stored; unreadable JSON is named with its line. Fixed, it is
    saved and listed in order with its trigger and threshold; it can be changed and, after
    confirming, deleted."""
    ui.log_in_as(["admins"])
    new_page = ui.get("/admin/workflows/new").text
    assert "send_auto_reply" in new_page
    assert "assigned_to_user_id" in new_page
    form = {
        "name": "VIP <routing>",
        "description": "For our best customers",
        "classification_trigger": "support_request",
        "confidence_threshold": "0,7",
        "position": "5",
        "enabled": "1",
        "workflow_steps": json.dumps(STEPS_WITH_MISTAKES, indent=2),
    }
    refused = ui.post("/admin/workflows", form)
    assert refused.status_code == 422
    problems = refused.text[refused.text.index('id="form-problems"') :]
    assert problems.index("<li>step 0 (create_ticket): customer 123 does not exist; use an") < (
        problems.index("<li>step 1 (set_priority): parameter priority: Input should be")
    )
    assert "(got &#39;urgent&#39;)</li>" in problems
    assert 'value="VIP &lt;routing&gt;"' in refused.text
    assert 'value="0,7"' in refused.text
    assert 'value="5"' in refused.text
    assert 'id="wf-stop" name="stop_after_match" value="1">' in refused.text
    assert json.dumps(STEPS_WITH_MISTAKES, indent=2) in html.unescape(refused.text)
    assert _workflows(runtime) == []

    broken = ui.post("/admin/workflows", {**form, "workflow_steps": '[{"action": }]'})
    assert broken.status_code == 422
    assert "workflow_steps is not valid JSON: Expecting value (line 1, column 13)" in broken.text

    fixed_steps = [{"action": "create_ticket", "params": {"priority": "critical"}}]
    saved = ui.post("/admin/workflows", {**form, "workflow_steps": json.dumps(fixed_steps)})
    assert saved.headers["location"] == "/admin/workflows"
    assert flash_of(runtime, saved).text == "Workflow VIP <routing> saved."
    assert _workflows(runtime) == [("VIP <routing>", "support_request", 0.7, 5, True, False)]
    listing = ui.get("/admin/workflows").text
    assert "VIP &lt;routing&gt;" in listing
    assert "<code>support_request</code>" in listing
    assert "0.70" in listing

    with runtime.db.transaction(write=False) as session:
        workflow_id = session.scalars(select(Workflow.id)).one()
    edit = ui.get(f"/admin/workflows/{workflow_id}").text
    assert "&#34;priority&#34;: &#34;critical&#34;" in edit
    changed = ui.post(
        f"/admin/workflows/{workflow_id}",
        {
            **form,
            "classification_trigger": "*",
            "stop_after_match": "1",
            "enabled": "",
            "workflow_steps": json.dumps(fixed_steps),
        },
    )
    assert flash_of(runtime, changed).text == "Workflow VIP <routing> saved."
    assert _workflows(runtime) == [("VIP <routing>", "*", 0.7, 5, False, True)]
    deleted = ui.post(f"/admin/workflows/{workflow_id}/delete", {})
    assert flash_of(runtime, deleted).text == "Workflow VIP <routing> deleted."
    assert _workflows(runtime) == []
    assert 'data-confirm="Delete this workflow?' in edit


def test_a_failed_run_raises_the_alert_and_is_retried_from_the_page(
    ui: UiClient, runtime: Runtime
) -> None:
    """A run that failed is listed by default with its mail, class, steps and error, and
    five failures within the hour raise the alert on the workflows page and the dashboard.
    Retrying while the cause remains records another failure and says so; once the ticket
    exists, the retry completes and the mail leaves triage."""
    workflow_id, inbound_id = failing_workflow(runtime)
    with runtime.db.transaction() as session:
        [failed] = session.scalars(select(WorkflowExecution)).all()
        failed_id = failed.id
        for minutes in range(1, 5):
            session.add(
                WorkflowExecution(
                    workflow_id=workflow_id,
                    workflow_name="Link to the future",
                    classification="support_request",
                    confidence=0.8,
                    status="failed",
                    error="step 0 (link_email_to_ticket) failed: earlier",
                    created_at=utcnow() - timedelta(minutes=minutes),
                )
            )
    ui.log_in_as(["admins"])
    runs = ui.get("/admin/workflow-executions")
    page = text_of(runs.text)
    assert "5 runs" in page
    assert f'href="/admin/inbound/{inbound_id}">The scanner needs help</a>' in runs.text
    assert "support_request (0.80)" in page
    assert f"ValidationFailed: ticket {FUTURE_TICKET} does not exist" in page
    assert f'action="/admin/workflow-executions/{failed_id}/retry"' in runs.text
    alert = "Workflow Link to the future failed 5 times in the last hour."
    assert alert in text_of(ui.get("/admin/workflows").text)
    assert alert in text_of(ui.get("/").text)
    assert "Link to the future" in text_of(ui.get("/admin/workflow-executions?status=").text)

    again = ui.post(f"/admin/workflow-executions/{failed_id}/retry", {})
    assert again.headers["location"] == "/admin/workflow-executions"
    shown = flash_of(runtime, again)
    assert shown.kind == "error"
    assert shown.text.startswith("The retry failed again: step 0 (link_email_to_ticket)")

    with runtime.db.transaction() as session:
        session.add(Ticket(ticket_number=FUTURE_TICKET, subject="Made later", source="api"))
    done = ui.post(f"/admin/workflow-executions/{failed_id}/retry", {})
    assert flash_of(runtime, done).text == "Retried: the new run completed."
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        assert row.queue is None
        assert row.ticket_id is not None
        completed = session.scalars(
            select(WorkflowExecution).where(WorkflowExecution.status == "completed")
        ).one()
        assert (completed.retry_of_id, completed.attempt) == (failed_id, 2)
        completed_id = completed.id
    not_failed = ui.post(f"/admin/workflow-executions/{completed_id}/retry", {})
    assert "only failed runs retry" in flash_of(runtime, not_failed).text
    assert "The scanner needs help" not in ui.get("/triage").text
