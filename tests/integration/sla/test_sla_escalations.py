"""SLA escalations fired by the worker's job: once per event, however many workers run it
and however often it is restarted, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hubdesk.audit.models import AuditEntry
from hubdesk.config import Settings
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.sla.escalations import evaluate
from hubdesk.sla.models import SlaEscalation
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users import service as users
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.app import create_app
from tests.support import factories
from tests.support.api import Api
from tests.support.processes import run_together
from tests.support.sla import ALWAYS_OPEN, policy
from tests.support.workers import evaluate_sla

T0 = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def notifying(settings: Settings) -> Settings:
    """Agent notifications on (queued in the outbox; nothing is sent in these tests)."""
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "notify_agents": True})


def _late_low_ticket(runtime: Runtime) -> int:
    """A low-priority ticket, assigned, whose first response (240 min) is due at T0+240."""
    with runtime.db.transaction() as session:
        policy(session, hours=ALWAYS_OPEN)
        agent = users.create_user(
            session, SYSTEM, email="agent@hubdesk.example.com", name="A", password=None, groups=[]
        )
        ticket = factories.ticket(session, now=T0, priority="low", assigned_to_user_id=agent.id)
        return ticket.id


def _facts(runtime: Runtime, ticket_id: int) -> tuple[list[tuple[str, str]], str, int, int]:
    """(escalations as (kind, target), priority, notifications queued, audit rows)."""
    with runtime.db.transaction(write=False) as session:
        fired = [
            (row.kind, row.target)
            for row in session.scalars(
                select(SlaEscalation).where(SlaEscalation.ticket_id == ticket_id)
            )
        ]
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        notes = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == "notification")
        )
        audits = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.ticket_id == ticket_id, AuditEntry.action == "sla_breached")
        )
        return fired, ticket.priority, int(notes or 0), int(audits or 0)


def test_a_restarted_worker_fires_a_breach_once(notifying: Settings) -> None:
    runtime = Runtime.build(notifying)
    try:
        ticket_id = _late_low_ticket(runtime)
        assert evaluate(runtime, T0 + timedelta(minutes=100)) == 0
        now = T0 + timedelta(minutes=250)
        assert evaluate(runtime, now) == 1
        # The breach raised low -> normal; normal's first response (60) is long past, but it
        # is the same event (same target, same clock start): nothing fires again.
        assert evaluate(runtime, now) == 0
        assert evaluate(runtime, now + timedelta(minutes=1)) == 0
        fired, priority, notes, audits = _facts(runtime, ticket_id)
        assert fired == [("breach", "first_response")]
        assert priority == "normal"
        assert notes == 1
        assert audits == 1
        with runtime.db.transaction(write=False) as session:
            row = session.scalars(select(SlaEscalation)).one()
            assert [a["action"] for a in row.actions] == ["notify_assignee", "raise_priority"]
            assert row.actions[1]["result"] == "low -> normal"
    finally:
        runtime.close()


def test_two_workers_at_once_fire_each_event_once(notifying: Settings) -> None:
    runtime = Runtime.build(notifying)
    try:
        ticket_id = _late_low_ticket(runtime)
        now = (T0 + timedelta(minutes=250)).isoformat()
        results = run_together(evaluate_sla, [(notifying.model_dump_json(), now)] * 2)
        assert sorted(r["fired"] for r in results) == [0, 1]
        # A third run, as after a restart, finds everything fired already.
        assert evaluate(runtime, datetime.fromisoformat(now)) == 0
        fired, priority, notes, audits = _facts(runtime, ticket_id)
        assert fired == [("breach", "first_response")]
        assert priority == "normal"
        assert notes == 1
        assert audits == 1
    finally:
        runtime.close()


def test_the_escalations_of_a_ticket_through_the_api(notifying: Settings) -> None:
    runtime = Runtime.build(notifying)
    try:
        ticket_id = _late_low_ticket(runtime)
        assert evaluate(runtime, T0 + timedelta(minutes=250)) == 1
        app = create_app(notifying, runtime=runtime)
        with TestClient(app) as client:
            api = Api(client, runtime)
            page = api.ok(api.get(f"/api/v1/tickets/{ticket_id}/sla-escalations", "agents"))
        assert page["total"] == 1
        (row,) = page["items"]
        assert (row["kind"], row["target"]) == ("breach", "first_response")
        assert row["actions"][1] == {"action": "raise_priority", "result": "low -> normal"}
    finally:
        runtime.close()


def test_a_warning_then_a_breach_each_fire_once(notifying: Settings) -> None:
    runtime = Runtime.build(notifying)
    try:
        ticket_id = _late_low_ticket(runtime)
        # 80 % of 240 minutes: the warning at T0+192.
        assert evaluate(runtime, T0 + timedelta(minutes=200)) == 1
        assert evaluate(runtime, T0 + timedelta(minutes=201)) == 0
        assert evaluate(runtime, T0 + timedelta(minutes=241)) == 1
        fired, priority, _notes, _audits = _facts(runtime, ticket_id)
        assert sorted(fired) == [("breach", "first_response"), ("warning", "first_response")]
        assert priority == "normal"  # a warning only notifies
    finally:
        runtime.close()


def test_paused_and_resolved_tickets_do_not_escalate(notifying: Settings) -> None:
    runtime = Runtime.build(notifying)
    try:
        ticket_id = _late_low_ticket(runtime)
        with runtime.db.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            tickets.update_ticket(session, SYSTEM, ticket, {"status": "waiting_customer"}, now=T0)
        assert evaluate(runtime, T0 + timedelta(days=30)) == 0
    finally:
        runtime.close()
