"""The workflow engine on real mail: the spec's workflows, thresholds, order, stop rules,
failures and their retry, and the fallback."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select, text

from hubdesk.customers import service as customers
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from hubdesk.workflows import service as workflows
from hubdesk.workflows.catalog import WorkflowIn
from hubdesk.workflows.models import WorkflowExecution
from tests.support.api import Api, make_user
from tests.support.mail import raw_mail


def _workflow(runtime: Runtime, **fields: Any) -> int:
    document = {
        "name": fields.pop("name", "W"),
        "classification_trigger": fields.pop("classification_trigger", "support_request"),
        "workflow_steps": fields.pop("workflow_steps", [{"action": "create_ticket", "params": {}}]),
        **fields,
    }
    with runtime.db.transaction() as session:
        return workflows.create(session, SYSTEM, WorkflowIn.model_validate(document)).id


def _executions(runtime: Runtime) -> list[WorkflowExecution]:
    with runtime.db.transaction(write=False) as session:
        rows = list(session.scalars(select(WorkflowExecution).order_by(WorkflowExecution.id)))
        session.expunge_all()
        return rows


def _ticket(runtime: Runtime, ticket_id: int | None) -> Ticket:
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def test_spec_support_workflow_assigns_and_sets_customer(engine_runtime: Runtime) -> None:
    """The spec's 'Support Request -> Ticket' workflow (ids adapted) creates the ticket with
    the customer and assignee it names, and the run is recorded as completed."""
    agent_id, _ = make_user(engine_runtime, ["agents"])
    with engine_runtime.db.transaction() as session:
        customer_id = customers.create_customer(session, SYSTEM, name="BMC").id
    _workflow(
        engine_runtime,
        name="Support Request → Ticket",
        classification_trigger="support_request",
        workflow_steps=[
            {
                "action": "create_ticket",
                "params": {"customer_id": customer_id, "assigned_to_user_id": agent_id},
            }
        ],
    )
    outcome = pipeline.ingest(engine_runtime, raw_mail(), source="t")
    assert outcome.status == "created"
    ticket = _ticket(engine_runtime, outcome.ticket_id)
    assert ticket.customer_id == customer_id
    assert ticket.assigned_to_user_id == agent_id
    assert ticket.priority == "normal"
    [execution] = _executions(engine_runtime)
    assert execution.status == "completed"
    assert execution.classification == "support_request"
    assert execution.confidence == 0.8
    assert execution.ticket_id == ticket.id
    assert execution.step_results[0]["result"]["created"] is True


def test_threshold_just_below_and_at(engine_runtime: Runtime) -> None:
    """The default 0.8 confidence meets a 0.8 threshold and misses 0.81 (>= compares)."""
    _workflow(
        engine_runtime,
        name="at",
        confidence_threshold=0.8,
        workflow_steps=[{"action": "create_ticket", "params": {"priority": "high"}}],
    )
    at = pipeline.ingest(engine_runtime, raw_mail(subject="one"), source="t")
    assert _ticket(engine_runtime, at.ticket_id).priority == "high"
    with engine_runtime.db.transaction() as session:
        workflow = session.scalars(select(workflows.Workflow)).one()
        data = WorkflowIn.model_validate(
            {**workflows.as_dict(workflow), "confidence_threshold": 0.81}
        )
        workflows.update(session, SYSTEM, workflow, data)
    below = pipeline.ingest(engine_runtime, raw_mail(subject="two"), source="t")
    assert below.status == "created"
    assert _ticket(engine_runtime, below.ticket_id).priority == "normal"
    assert len(_executions(engine_runtime)) == 1


def test_order_and_stop_rules(engine_runtime: Runtime) -> None:
    """Matching workflows run by position; one that completes stops the rest unless it says
    stop_after_match=false."""
    _workflow(
        engine_runtime,
        name="first",
        position=1,
        stop_after_match=False,
        workflow_steps=[
            {"action": "create_ticket", "params": {}},
            {"action": "add_tags", "params": {"tags": ["first"]}},
        ],
    )
    _workflow(
        engine_runtime,
        name="second",
        position=2,
        classification_trigger="*",
        workflow_steps=[
            {"action": "create_ticket", "params": {}},
            {"action": "add_tags", "params": {"tags": ["second"]}},
        ],
    )
    _workflow(
        engine_runtime,
        name="third",
        position=3,
        workflow_steps=[
            {"action": "create_ticket", "params": {}},
            {"action": "add_tags", "params": {"tags": ["third"]}},
        ],
    )
    outcome = pipeline.ingest(engine_runtime, raw_mail(), source="t")
    assert _ticket(engine_runtime, outcome.ticket_id).tags == ["first", "second"]
    assert [e.workflow_name for e in _executions(engine_runtime)] == ["first", "second"]


def test_failing_step_rolls_back_and_retry_runs_again(engine_api: Api) -> None:
    """A step that fails undoes its workflow (no ticket from it), the email waits in triage,
    the failure is listed, and a retry after the cause is fixed completes the email."""
    runtime = engine_api.runtime
    _workflow(
        runtime,
        name="link to a future ticket",
        workflow_steps=[
            {"action": "link_email_to_ticket", "params": {"ticket_number": "TKT-20990101-001"}},
            {"action": "set_priority", "params": {"priority": "critical"}},
        ],
    )
    outcome = pipeline.ingest(runtime, raw_mail(), source="t")
    assert outcome.ticket_id is None
    assert outcome.reason.startswith("triage: workflow")
    failed = engine_api.ok(engine_api.get("/api/v1/workflow-executions?status=failed"))
    assert failed["total"] == 1
    [execution] = failed["items"]
    assert execution["status"] == "failed"
    assert "step 0 (link_email_to_ticket)" in execution["error"]
    assert execution["step_results"][0]["status"] == "failed"
    with runtime.db.transaction(write=False) as session:
        assert session.scalars(select(Ticket)).all() == []
        row = session.get(InboundMessage, outcome.inbound_id)
        assert row is not None
        assert row.queue == "triage"
    with runtime.db.transaction() as session:
        future = Ticket(ticket_number="TKT-20990101-001", subject="Made later", source="api")
        session.add(future)
    retried = engine_api.ok(engine_api.post(f"/api/v1/workflow-executions/{execution['id']}/retry"))
    assert retried["status"] == "completed"
    assert retried["retry_of_id"] == execution["id"]
    assert retried["attempt"] == 2
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, outcome.inbound_id)
        assert row is not None
        assert row.queue is None
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.priority == "critical"
        assert row.ticket_id == ticket.id
    again = engine_api.post(f"/api/v1/workflow-executions/{retried['id']}/retry")
    assert again.status_code == 409


def test_no_match_falls_back_to_create_ticket_or_triage(engine_runtime: Runtime) -> None:
    """With no matching workflow, EMAIL_WORKFLOWS_FALLBACK decides: the built-in route, or
    the triage queue agents work from."""
    _workflow(engine_runtime, name="invoices only", classification_trigger="invoice")
    built_in = pipeline.ingest(engine_runtime, raw_mail(subject="a"), source="t")
    assert built_in.status == "created"
    triage_runtime = replace(
        engine_runtime,
        settings=engine_runtime.settings.model_copy(update={"email_workflows_fallback": "triage"}),
    )
    held = pipeline.ingest(triage_runtime, raw_mail(subject="b"), source="t")
    assert held.status == "ignored"
    assert held.reason.startswith("triage: no workflow took this support_request email")


def test_reply_workflows_act_on_the_linked_ticket(engine_runtime: Runtime) -> None:
    """Mail that threads to a ticket is linked first; a 'reply' workflow then acts on it."""
    _workflow(
        engine_runtime,
        name="replies are high",
        classification_trigger="reply",
        workflow_steps=[{"action": "set_priority", "params": {"priority": "high"}}],
    )
    first = pipeline.ingest(engine_runtime, raw_mail(message_id="<r1@example.com>"), source="t")
    reply = pipeline.ingest(engine_runtime, raw_mail(in_reply_to="<r1@example.com>"), source="t")
    assert reply.status == "linked"
    assert reply.ticket_id == first.ticket_id
    assert _ticket(engine_runtime, first.ticket_id).priority == "high"


def test_workflow_can_ignore_or_mark_spam(engine_api: Api) -> None:
    """ignore and mark_spam record the email without a ticket; an agent sees the spam and
    releases it into a ticket."""
    engine_runtime = engine_api.runtime
    _workflow(
        engine_runtime,
        name="drop invoices",
        classification_trigger="invoice",
        workflow_steps=[{"action": "ignore", "params": {"reason": "bookkeeping reads these"}}],
    )
    _workflow(
        engine_runtime,
        name="spammy",
        classification_trigger="newsletter",
        workflow_steps=[{"action": "mark_spam", "params": {}}],
    )
    ignored = pipeline.ingest(engine_runtime, raw_mail(subject="Faktura 1234"), source="t")
    assert ignored.status == "ignored"
    assert ignored.reason == "ignored: bookkeeping reads these"
    spam = pipeline.ingest(engine_runtime, raw_mail(headers={"List-Id": "<x.example>"}), source="t")
    assert spam.status == "ignored"
    assert spam.reason.startswith("spam:")
    held = engine_api.ok(engine_api.get("/api/v1/triage?kind=spam", "agents"))
    assert [row["id"] for row in held["items"]] == [spam.inbound_id]
    released = engine_api.ok(
        engine_api.post(
            f"/api/v1/triage/{spam.inbound_id}", "agents", json={"action": "create_ticket"}
        )
    )
    assert released["status"] == "created"
    assert released["created"] is True
    assert engine_api.ok(engine_api.get("/api/v1/triage?kind=spam", "agents"))["total"] == 0


def test_no_retry_once_an_agent_decided_the_email(engine_api: Api) -> None:
    """After an agent dismissed (or ticketed) the email in triage, retrying the failed run is
    a 409: it could otherwise make a second ticket for one email."""
    runtime = engine_api.runtime
    _workflow(
        runtime,
        name="fails",
        workflow_steps=[
            {"action": "link_email_to_ticket", "params": {"ticket_number": "TKT-20990101-001"}}
        ],
    )
    outcome = pipeline.ingest(runtime, raw_mail(), source="t")
    [execution] = engine_api.ok(engine_api.get("/api/v1/workflow-executions?status=failed"))[
        "items"
    ]
    engine_api.ok(
        engine_api.post(
            f"/api/v1/triage/{outcome.inbound_id}", "agents", json={"action": "dismiss"}
        )
    )
    retry = engine_api.post(f"/api/v1/workflow-executions/{execution['id']}/retry")
    assert retry.status_code == 409
    assert "no longer waits in triage" in retry.json()["detail"]


def test_spec_troubleshooting_query_lists_failed_runs(engine_runtime: Runtime) -> None:
    """The spec's debug query over email_workflow_executions runs as written and shows the
    failed run with its error."""
    _workflow(
        engine_runtime,
        name="broken link",
        workflow_steps=[
            {"action": "link_email_to_ticket", "params": {"ticket_number": "TKT-20990101-001"}}
        ],
    )
    pipeline.ingest(engine_runtime, raw_mail(), source="t")
    with engine_runtime.db.transaction(write=False) as session:
        rows = (
            session.execute(
                text(
                    "SELECT * FROM email_workflow_executions \n"
                    "WHERE status = 'failed' \n"
                    "ORDER BY created_at DESC \n"
                    "LIMIT 10;"
                )
            )
            .mappings()
            .all()
        )
    assert [(r["workflow_name"], r["status"]) for r in rows] == [("broken link", "failed")]
    assert "does not exist" in rows[0]["error"]
