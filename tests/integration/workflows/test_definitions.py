"""Workflows as data: the spec's JSON imports as written (ids adapted), validation names the
step, its action and the fix, and the API and CLI manage them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubdesk.config import Settings
from hubdesk.customers import service as customers
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from tests.integration.intake.test_ingest_cli import lines
from tests.integration.intake.test_ingest_cli import run as run_cli
from tests.support.api import Api, make_user
from tests.support.mail import raw_mail


def _spec_workflows(customer_id: int, user_id: int) -> list[dict[str, object]]:
    """The spec's two workflows and its link step wrapped in a workflow, ids adapted."""
    return [
        {
            "name": "Support Request → Ticket",
            "classification_trigger": "support_request",
            "workflow_steps": [
                {
                    "action": "create_ticket",
                    "params": {"customer_id": customer_id, "assigned_to_user_id": user_id},
                }
            ],
        },
        {
            "name": "Support Email → Ticket",
            "classification_trigger": "support_request",
            "confidence_threshold": 0.7,
            "workflow_steps": [
                {"action": "create_ticket", "params": {"assigned_to_user_id": user_id}}
            ],
        },
        {
            "name": "Manual routing",
            "classification_trigger": "invoice",
            "workflow_steps": [
                {
                    "action": "link_email_to_ticket",
                    "params": {"ticket_number": "TKT-20251215-001"},
                }
            ],
        },
    ]


def _ids(runtime: Runtime) -> tuple[int, int]:
    user_id, _ = make_user(runtime, ["agents"], email="five@support.example.com")
    with runtime.db.transaction() as session:
        customer_id = customers.create_customer(session, SYSTEM, name="BMC Networks").id
    return customer_id, user_id


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"workflow_steps": [{"action": "explode"}]}, "step 0: unknown action 'explode'"),
        (
            {"workflow_steps": [{"action": "link_email_to_ticket", "params": {}}]},
            "step 0 (link_email_to_ticket): the parameter ticket_number is required",
        ),
        (
            {"workflow_steps": [{"action": "create_ticket", "params": {"priority": "urgent"}}]},
            "step 0 (create_ticket): parameter priority",
        ),
        (
            {"workflow_steps": [{"action": "create_ticket", "params": {"customer_id": "7"}}]},
            "step 0 (create_ticket): parameter customer_id",
        ),
        (
            {"workflow_steps": [{"action": "create_ticket", "params": {"customer_id": 999}}]},
            "customer 999 does not exist",
        ),
        (
            {
                "workflow_steps": [
                    {"action": "create_ticket", "params": {"assigned_to_user_id": 999}}
                ]
            },
            "user 999 does not exist",
        ),
        (
            {"workflow_steps": [{"action": "set_priority", "params": {"priority": "high"}}]},
            "step 0 (set_priority): it acts on a ticket, but no earlier step makes one",
        ),
        (
            {"workflow_steps": [{"action": "create_ticket", "params": {"colour": "red"}}]},
            "unknown parameter colour",
        ),
        ({"confidence_threshold": 1.5}, "confidence_threshold 1.5 is outside 0..1"),
        ({"classification_trigger": "gossip"}, "'gossip' is not a known classification"),
    ],
)
def test_validation_names_step_action_and_fix(
    api: Api, document: dict[str, object], fragment: str
) -> None:
    """Every kind of mistake is a 422 whose message says where and what to do."""
    body = {
        "name": "Broken",
        "classification_trigger": "support_request",
        "workflow_steps": [{"action": "create_ticket", "params": {}}],
        **document,
    }
    for path in ("/api/v1/workflows", "/api/v1/workflows/validate"):
        response = api.post(path, json=body)
        assert response.status_code == 422, response.text
        assert fragment in response.json()["detail"]


def test_crud_over_the_api(api: Api) -> None:
    """Create, list, get, update, delete; a duplicate name is a 409; agents may not."""
    customer_id, user_id = _ids(api.runtime)
    spec = _spec_workflows(customer_id, user_id)
    created = api.ok(api.post("/api/v1/workflows", json=spec[0]), 201)
    assert created["workflow_steps"] == [
        {
            "action": "create_ticket",
            "params": {
                "customer_id": customer_id,
                "assigned_to_user_id": user_id,
                "priority": None,
            },
        }
    ]
    assert api.post("/api/v1/workflows", json=spec[0]).status_code == 409
    listed = api.ok(api.get("/api/v1/workflows"))
    assert listed["total"] == 1
    updated = api.ok(
        api.put(f"/api/v1/workflows/{created['id']}", json={**spec[0], "enabled": False})
    )
    assert updated["enabled"] is False
    assert api.get("/api/v1/workflows", "agents").status_code == 403
    assert api.delete(f"/api/v1/workflows/{created['id']}").status_code == 204
    assert api.get(f"/api/v1/workflows/{created['id']}").status_code == 404
    actions = api.ok(api.get("/api/v1/workflows/actions"))
    assert {a["action"] for a in actions} >= {
        "create_ticket",
        "link_email_to_ticket",
        "assign_ticket",
        "set_priority",
        "set_status",
        "add_tags",
        "set_customer",
        "add_internal_note",
        "send_auto_reply",
        "mark_spam",
        "ignore",
    }


def test_spec_workflows_import_from_json_and_run_through_ingest(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    """`hubdesk workflows import` takes the spec's JSON; with the engine on, the spec's
    example email becomes a ticket assigned as the workflow says, through `hubdesk ingest`,
    and `workflows export` gives the definitions back."""
    customer_id, user_id = _ids(runtime)
    file = tmp_path / "workflows.json"
    file.write_text(json.dumps(_spec_workflows(customer_id, user_id)), encoding="utf-8")
    imported = run_cli(settings, "workflows", "import", str(file))
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.decode().count("created workflow") == 3
    again = run_cli(settings, "workflows", "import", str(file))
    assert again.stderr.decode().count("updated workflow") == 3
    message = tmp_path / "m.eml"
    message.write_bytes(raw_mail(subject="Help with network issue"))
    ingested = run_cli(
        settings, "ingest", "--json", str(message), env={"EMAIL_WORKFLOWS_ENABLED": "true"}
    )
    [line] = lines(ingested)
    assert line["status"] == "created"
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, line["ticket_id"])
        assert ticket is not None
        assert ticket.customer_id == customer_id
        assert ticket.assigned_to_user_id == user_id
    exported = run_cli(settings, "workflows", "export", "--format", "yaml")
    assert b"Support Request" in exported.stdout
    assert b"link_email_to_ticket" in exported.stdout


def test_import_refuses_a_broken_file_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    """A file with one bad workflow imports nothing and exits non-zero naming the fix."""
    file = tmp_path / "bad.yaml"
    file.write_text(
        "- name: good\n  classification_trigger: support_request\n  workflow_steps:\n"
        "    - action: create_ticket\n"
        "- name: bad\n  classification_trigger: support_request\n  workflow_steps:\n"
        "    - action: teleport\n",
        encoding="utf-8",
    )
    result = run_cli(settings, "workflows", "import", str(file))
    assert result.returncode == 1
    assert b"step 0: unknown action 'teleport'" in result.stderr
    exported = run_cli(settings, "workflows", "export")
    assert json.loads(exported.stdout) == []


def test_spec_examples_through_the_test_endpoint(engine_api: Api) -> None:
    """The spec's workflow on its example email through POST /test/email-to-ticket, and
    the executions are listed in the envelope with their status."""
    customer_id, user_id = _ids(engine_api.runtime)
    engine_api.ok(
        engine_api.post("/api/v1/workflows", json=_spec_workflows(customer_id, user_id)[0]), 201
    )
    result = engine_api.ok(
        engine_api.post(
            "/api/v1/test/email-to-ticket",
            json={
                "email_data": {
                    "message_id": "<test123@example.com>",
                    "subject": "Test ticket",
                    "from_address": "test@example.com",
                    "body": "This is a test #testing",
                    "received_at": "2025-12-15T10:00:00Z",
                }
            },
        )
    )
    assert result["created"] is True
    ticket = engine_api.ok(engine_api.get(f"/api/v1/tickets/{result['ticket_id']}"))
    assert ticket["assigned_to_user_id"] == user_id
    assert ticket["tags"] == ["testing"]
    executions = engine_api.ok(engine_api.get("/api/v1/workflow-executions"))
    assert set(executions) == {"items", "total", "limit", "offset", "total_is_lower_bound"}
    assert [e["status"] for e in executions["items"]] == ["completed"]
