"""The escalation actions notify_group and reassign: what each run did is logged, and each
event runs them once, also with two workers at once, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hubdesk.config import Settings
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.sla.escalations import evaluate
from hubdesk.sla.models import SlaEscalation
from hubdesk.tickets.models import Ticket
from tests.support import factories
from tests.support.api import Api
from tests.support.processes import run_together
from tests.support.sla import ALWAYS_OPEN, policy, policy_body
from tests.support.workers import evaluate_sla

T0 = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)
LATE = T0 + timedelta(minutes=250)  # past the low first response (240 min)


@pytest.fixture
def notifying(settings: Settings) -> Settings:
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "notify_agents": True})


def _escalating(runtime: Runtime, breach: list[Any]) -> dict[str, int]:
    """Tier 2 (a, b available; c unavailable; d inactive), a low ticket assigned to `first`."""
    with runtime.db.transaction() as session:
        factories.group(session, "Tier 2")
        first = factories.agent(session, "first@hubdesk.example.com")
        ids = {"first": first.id}
        for name, fields in (
            ("a", {}),
            ("b", {}),
            ("c", {"available": False}),
            ("d", {"active": False}),
        ):
            user = factories.agent(
                session, f"{name}@hubdesk.example.com", groups=["agents", "Tier 2"], **fields
            )
            ids[name] = user.id
        policy(
            session,
            hours=ALWAYS_OPEN,
            escalations={"warning": [], "breach": breach},
        )
        ticket = factories.ticket(session, now=T0, priority="low", assigned_to_user_id=first.id)
        ids["ticket"] = ticket.id
        return ids


def _notified(runtime: Runtime, ticket_id: int) -> list[str]:
    with runtime.db.transaction(write=False) as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == "notification"
            )
        )
        return sorted(address for row in rows for address in [row.recipient])


def test_notify_group_and_reassign_to_the_groups_next_agent_once(notifying: Settings) -> None:
    runtime = Runtime.build(notifying)
    try:
        ids = _escalating(
            runtime,
            [
                {"action": "notify_group", "group": "Tier 2"},
                {"action": "reassign", "group": "Tier 2"},
            ],
        )
        assert evaluate(runtime, LATE) == 1
        assert evaluate(runtime, LATE + timedelta(minutes=5)) == 0  # a restarted worker
        # Every active member of Tier 2 (not d, inactive), once; the new assignee (a) was
        # one of them, so the "assigned" notice keeps to NOTIFY_MIN_INTERVAL_MINUTES.
        assert _notified(runtime, ids["ticket"]) == [
            "a@hubdesk.example.com",
            "b@hubdesk.example.com",
            "c@hubdesk.example.com",
        ]
        with runtime.db.transaction(write=False) as session:
            ticket = session.get(Ticket, ids["ticket"])
            assert ticket is not None
            assert ticket.assigned_to_user_id == ids["a"]
            row = session.scalars(select(SlaEscalation)).one()
            log = row.actions
        assert log[0]["action"] == "notify_group"
        assert log[0]["group"] == "Tier 2"
        assert log[0]["result"].endswith("to Tier 2")
        assert log[1]["result"].startswith(f"user {ids['first']} -> user {ids['a']} (round robin")
    finally:
        runtime.close()


def test_reassign_to_a_named_user_with_two_workers_at_once(notifying: Settings) -> None:
    runtime = Runtime.build(notifying)
    try:
        ids = _escalating(runtime, ["notify_assignee"])
        with runtime.db.transaction() as session:
            from hubdesk.sla.models import SlaPolicy

            row = session.scalars(select(SlaPolicy)).one()
            row.escalations = {
                "warning": [],
                "breach": [{"action": "reassign", "user_id": ids["b"]}, "notify_assignee"],
            }
        results = run_together(evaluate_sla, [(notifying.model_dump_json(), LATE.isoformat())] * 2)
        assert sorted(r["fired"] for r in results) == [0, 1]
        with runtime.db.transaction(write=False) as session:
            ticket = session.get(Ticket, ids["ticket"])
            assert ticket is not None
            assert ticket.assigned_to_user_id == ids["b"]
            fired = session.scalar(select(func.count()).select_from(SlaEscalation))
        assert fired == 1
        # The reassignment told b once; notify_assignee then finds b notified just now.
        assert _notified(runtime, ids["ticket"]) == ["b@hubdesk.example.com"]
    finally:
        runtime.close()


def test_reassign_finds_nobody_available_and_says_so(notifying: Settings) -> None:
    runtime = Runtime.build(notifying)
    try:
        ids = _escalating(runtime, [{"action": "reassign", "group": "Tier 2"}])
        with runtime.db.transaction() as session:
            from hubdesk.users.models import User

            for name in ("a", "b"):
                user = session.get(User, ids[name])
                assert user is not None
                user.available = False
        assert evaluate(runtime, LATE) == 1
        with runtime.db.transaction(write=False) as session:
            ticket = session.get(Ticket, ids["ticket"])
            assert ticket is not None
            assert ticket.assigned_to_user_id == ids["first"]
            log = session.scalars(select(SlaEscalation)).one().actions
        assert log[0]["result"] == "no available agent in group Tier 2: not reassigned"
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("step", "says"),
    [
        ({"action": "notify_group"}, "notify_group needs a group"),
        ({"action": "notify_group", "group": "Nobody"}, "group 'Nobody' does not exist"),
        ({"action": "reassign"}, "reassign needs either a user_id or a group"),
        ({"action": "reassign", "user_id": 9999}, "user 9999 does not exist or is inactive"),
        ("reassign", "reassign needs either a user_id or a group"),
        ({"action": "raise_priority", "group": "agents"}, "raise_priority takes no group"),
    ],
)
def test_bad_escalation_steps_are_refused_with_what_to_fix(api: Api, step: Any, says: str) -> None:
    body = policy_body(escalations={"warning": [], "breach": [step]})
    response = api.post("/api/v1/sla-policies", "admins", json=body)
    assert response.status_code == 422, response.text
    assert says in response.json()["detail"]


def test_steps_with_parameters_round_trip_through_the_api(api: Api) -> None:
    step = {"action": "reassign", "group": "agents"}
    body = policy_body(escalations={"warning": ["notify_assignee"], "breach": [step]})
    created = api.ok(api.post("/api/v1/sla-policies", "admins", json=body), 201)
    assert created["escalations"] == {"warning": ["notify_assignee"], "breach": [step]}
