"""`GET /api/v1/health` names what needs an admin: repeated workflow failures, throttled
senders, outgoing mail that cannot leave — 200 `degraded`, never hiding the database state.
The details are for holders of `mailboxes.manage`; anyone else gets liveness only."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from hubdesk.intake import pipeline
from hubdesk.outbox import service as outbox
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.app import create_app
from hubdesk.workflows import service as workflows
from hubdesk.workflows.catalog import WorkflowIn
from tests.support.api import make_user
from tests.support.mail import raw_mail


def _health(runtime: Runtime, *, groups: tuple[str, ...] = ("admins",)) -> dict[str, object]:
    """The health answer as a member of `groups` sees it (no groups: without a login)."""
    headers = {"Authorization": f"Bearer {make_user(runtime, groups)[1]}"} if groups else {}
    with TestClient(create_app(runtime.settings, runtime=runtime)) as client:
        response = client.get("/api/v1/health", headers=headers)
        assert response.status_code == 200
        body: dict[str, object] = response.json()
        return body


def test_healthy_by_default(runtime: Runtime) -> None:
    """A fresh install is ok with no problems listed."""
    assert _health(runtime) == {"status": "ok", "database": "ok"}


def test_details_need_the_permission(runtime: Runtime) -> None:
    """Without a login, and for an agent, health is liveness only (`status`, `database`):
    `degraded` says something needs an admin, never what. An admin gets the problems and
    the outbox counts."""
    with runtime.db.transaction() as session:
        outbox.enqueue(
            session,
            runtime.settings,
            runtime.secret_key,
            SYSTEM,
            kind="notice",
            to=["secret-customer@example.com"],
            subject="x",
            body="y",
        )
    for groups in ((), ("agents",), ("readonly",)):
        assert _health(runtime, groups=groups) == {"status": "degraded", "database": "ok"}
    admin = _health(runtime)
    assert admin["status"] == "degraded"
    assert admin["outbox"] == {"pending": 1, "failed_last_day": 0}
    assert admin["problems"] == ["1 outgoing message(s) wait: SMTP_HOST is not set"]


def test_repeated_workflow_failures_raise_an_alert(runtime: Runtime) -> None:
    """WORKFLOW_FAILURE_ALERT_THRESHOLD failures of one workflow within an hour: degraded."""
    engine_on = replace(
        runtime,
        settings=runtime.settings.model_copy(
            update={"email_workflows_enabled": True, "workflow_failure_alert_threshold": 3}
        ),
    )
    with runtime.db.transaction() as session:
        workflows.create(
            session,
            SYSTEM,
            WorkflowIn(
                name="always fails",
                classification_trigger="support_request",
                workflow_steps=[
                    {
                        "action": "link_email_to_ticket",
                        "params": {"ticket_number": "TKT-20990101-001"},
                    }
                ],
            ),
        )
    for index in range(2):
        pipeline.ingest(engine_on, raw_mail(subject=f"f{index}"), source="t")
    assert _health(engine_on)["status"] == "ok"
    pipeline.ingest(engine_on, raw_mail(subject="f3"), source="t")
    body = _health(engine_on)
    assert body["status"] == "degraded"
    assert "workflow 'always fails' failed 3 times in the last hour" in body["problems"]  # type: ignore[operator]


def test_throttled_senders_and_waiting_mail_are_listed(runtime: Runtime) -> None:
    """A sender over the new-ticket limit, and replies that wait without SMTP_HOST."""
    strict = replace(
        runtime, settings=runtime.settings.model_copy(update={"new_tickets_per_sender_per_hour": 1})
    )
    for index in range(3):
        pipeline.ingest(strict, raw_mail(subject=f"s{index}"), source="t")
    with runtime.db.transaction() as session:
        outbox.enqueue(
            session,
            runtime.settings,
            runtime.secret_key,
            SYSTEM,
            kind="notice",
            to=["someone@example.com"],
            subject="x",
            body="y",
        )
    problems = _health(strict)["problems"]
    assert "sender customer@example.com throttled: 2 message(s) held in triage" in problems  # type: ignore[operator]
    assert "1 outgoing message(s) wait: SMTP_HOST is not set" in problems  # type: ignore[operator]
