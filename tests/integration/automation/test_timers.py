"""The worker's time-based automation: auto-close, reminders and auto-resolve of tickets
waiting for the customer, the end of a snooze. Each fires once, with a restarted worker and
with two workers at once, on both databases; each change is audited with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hubdesk.audit.models import AuditEntry
from hubdesk.automation import reasons as reasons_module
from hubdesk.automation.models import AutomationEvent
from hubdesk.automation.timers import run
from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from tests.support import factories
from tests.support.api import Api
from tests.support.processes import run_together
from tests.support.workers import run_automation

T0 = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def timed(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "notify_agents": True,
            "ticket_auto_close_days": 7,
            "ticket_pending_reminder_days": 3,
            "ticket_pending_auto_resolve_days": 10,
        }
    )


def _ticket(runtime: Runtime, status: str) -> int:
    """A ticket with a contact, moved to `status` at T0."""
    with runtime.db.transaction() as session:
        contact = factories.contact(session, "customer@example.com")
        ticket = factories.ticket(session, now=T0, contact_id=contact.id)
        for step in ("resolved",) if status == "resolved" else (status,):
            tickets.update_ticket(session, SYSTEM, ticket, {"status": step}, now=T0)
        return ticket.id


def _state(runtime: Runtime, ticket_id: int) -> tuple[str, list[str], list[str], int]:
    """(status, automation events, audit reasons, notices queued)."""
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        kinds = list(
            session.scalars(
                select(AutomationEvent.kind)
                .where(AutomationEvent.ticket_id == ticket_id)
                .order_by(AutomationEvent.id)
            )
        )
        reasons = [
            reasons_module.english(entry.changes["reason"][1])
            for entry in session.scalars(
                select(AuditEntry).where(AuditEntry.ticket_id == ticket_id).order_by(AuditEntry.id)
            )
            if "reason" in entry.changes
        ]
        notices = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == "notice")
        )
        return ticket.status, kinds, reasons, int(notices or 0)


def test_a_resolved_ticket_is_closed_after_n_days_once(timed: Settings) -> None:
    runtime = Runtime.build(timed)
    try:
        ticket_id = _ticket(runtime, "resolved")
        assert run(runtime, T0 + 6 * DAY) == 0
        assert run(runtime, T0 + 8 * DAY) == 1
        assert run(runtime, T0 + 9 * DAY) == 0  # restarted: nothing more
        status, kinds, reasons, _ = _state(runtime, ticket_id)
        assert status == "closed"
        assert kinds == ["auto_closed"]
        assert reasons == [
            "resolved 7 days ago without a customer reply (TICKET_AUTO_CLOSE_DAYS=7)"
        ]
    finally:
        runtime.close()


def test_waiting_for_the_customer_reminds_once_then_resolves(timed: Settings) -> None:
    runtime = Runtime.build(timed)
    try:
        ticket_id = _ticket(runtime, "waiting_customer")
        assert run(runtime, T0 + 2 * DAY) == 0
        results = run_together(
            run_automation, [(timed.model_dump_json(), (T0 + 4 * DAY).isoformat())] * 2
        )
        assert sorted(r["fired"] for r in results) == [0, 1]
        assert run(runtime, T0 + 5 * DAY) == 0  # a restarted worker does not remind again
        status, kinds, _, notices = _state(runtime, ticket_id)
        assert (status, kinds, notices) == ("waiting_customer", ["pending_reminder"], 1)
        assert run(runtime, T0 + 11 * DAY) == 1
        status, kinds, reasons, notices = _state(runtime, ticket_id)
        assert status == "resolved"
        assert kinds == ["pending_reminder", "auto_resolved"]
        assert reasons[0].startswith("waited 3 days for the customer")
        assert reasons[0].endswith("to customer@example.com")
        assert reasons[1] == (
            "waited 10 days for the customer without an answer "
            "(TICKET_PENDING_AUTO_RESOLVE_DAYS=10)"
        )
        # Resolved at T0+11d: closed 7 days later, by the same job.
        assert run(runtime, T0 + 19 * DAY) == 1
        assert _state(runtime, ticket_id)[0] == "closed"
    finally:
        runtime.close()


def test_a_customer_answer_ends_the_wait(timed: Settings) -> None:
    runtime = Runtime.build(timed)
    try:
        ticket_id = _ticket(runtime, "waiting_customer")
        with runtime.db.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            tickets.update_ticket(session, SYSTEM, ticket, {"status": "open"}, now=T0 + DAY)
        assert run(runtime, T0 + 30 * DAY) == 0
    finally:
        runtime.close()


def test_off_by_default(settings: Settings) -> None:
    runtime = Runtime.build(settings)
    try:
        _ticket(runtime, "resolved")
        assert run(runtime, T0 + 365 * DAY) == 0
    finally:
        runtime.close()


def test_a_snoozed_ticket_is_hidden_then_reappears_and_tells_the_assignee(
    timed: Settings,
) -> None:
    from fastapi.testclient import TestClient

    from hubdesk.web.app import create_app

    runtime = Runtime.build(timed)
    try:
        with runtime.db.transaction() as session:
            agent = factories.agent(session, "agent@hubdesk.example.com")
            ticket_id = factories.ticket(session, assigned_to_user_id=agent.id).id
        with TestClient(create_app(timed, runtime=runtime)) as client:
            api = Api(client, runtime)
            until = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
            snoozed = api.ok(
                api.put(
                    f"/api/v1/tickets/{ticket_id}/snooze",
                    "agents",
                    json={"until": until.isoformat()},
                )
            )
            assert datetime.fromisoformat(snoozed["snoozed_until"]) == until
            shown = api.ok(api.get(f"/api/v1/tickets/{ticket_id}", "agents"))
            assert datetime.fromisoformat(shown["snoozed_until"]) == until

            def listed(snoozed: str) -> list[int]:
                page = api.ok(api.get(f"/api/v1/tickets?snoozed={snoozed}", "agents"))
                return [item["id"] for item in page["items"]]

            assert ticket_id not in listed("false")
            assert ticket_id in listed("true")
            # Unhappy paths: the past, no time zone, more than a year.
            for bad, says in (
                ((utcnow() - timedelta(hours=1)).isoformat(), "must be in the future"),
                ("2030-01-01T08:00:00", "needs a time zone"),
                ((utcnow() + timedelta(days=400)).isoformat(), "within a year"),
            ):
                response = api.put(
                    f"/api/v1/tickets/{ticket_id}/snooze", "agents", json={"until": bad}
                )
                assert response.status_code == 422
                assert says in response.json()["detail"]
            # Two workers when the snooze has ended: it ends once, one notification.
            later = (until + timedelta(minutes=1)).isoformat()
            results = run_together(run_automation, [(timed.model_dump_json(), later)] * 2)
            assert sorted(r["fired"] for r in results) == [0, 1]
            assert ticket_id in listed("false")
            shown = api.ok(api.get(f"/api/v1/tickets/{ticket_id}", "agents"))
            assert shown["snoozed_until"] is None
            events = api.ok(api.get(f"/api/v1/tickets/{ticket_id}/automation-events", "agents"))
            assert [e["kind"] for e in events["items"]] == ["snooze_ended"]
        with runtime.db.transaction(write=False) as session:
            told = list(
                session.scalars(
                    select(OutboxMessage.recipient).where(
                        OutboxMessage.ticket_id == ticket_id,
                        OutboxMessage.kind == "notification",
                    )
                )
            )
            actions = list(
                session.scalars(
                    select(AuditEntry.action)
                    .where(AuditEntry.ticket_id == ticket_id)
                    .order_by(AuditEntry.id)
                )
            )
        assert told == ["agent@hubdesk.example.com"]
        assert [a for a in actions if "snooze" in a] == ["snoozed", "snooze_ended"]
    finally:
        runtime.close()


def test_reminder_days_must_come_before_auto_resolve() -> None:
    from hubdesk.config import load_settings
    from hubdesk.errors import ConfigError

    with pytest.raises(ConfigError, match="TICKET_PENDING_REMINDER_DAYS"):
        load_settings(
            _env_file=None, ticket_pending_reminder_days=5, ticket_pending_auto_resolve_days=5
        )
    with pytest.raises(ConfigError, match="Setting TICKET_AUTO_CLOSE_DAYS is invalid"):
        load_settings(_env_file=None, ticket_auto_close_days=-1)


def test_a_snooze_on_a_ticket_closed_meanwhile_ends_without_a_notification(
    timed: Settings,
) -> None:
    from hubdesk.automation.snooze import snooze

    runtime = Runtime.build(timed)
    try:
        with runtime.db.transaction() as session:
            agent = factories.agent(session, "agent@hubdesk.example.com")
            ticket = factories.ticket(session, now=T0, assigned_to_user_id=agent.id)
            snooze(session, SYSTEM, ticket, T0 + DAY, now=T0)
            tickets.close_ticket(session, SYSTEM, ticket, now=T0 + timedelta(hours=1))
            ticket_id = ticket.id
        assert run(runtime, T0 + 2 * DAY) == 1
        assert run(runtime, T0 + 3 * DAY) == 0
        with runtime.db.transaction(write=False) as session:
            result = session.scalars(select(AutomationEvent.result)).one()
            told = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.ticket_id == ticket_id)
            )
        assert result["assignee"] == "not told: the ticket is closed"
        assert told == 0
    finally:
        runtime.close()
