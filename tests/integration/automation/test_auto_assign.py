"""Automatic assignment of new tickets from mail (TICKET_AUTO_ASSIGN): round robin or least
open among a group's available agents, never an inactive or unavailable user, and safe when
two workers take mail at once; on both databases."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.automation.reasons import english
from hubdesk.config import Settings
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.support import factories
from tests.support.api import Api
from tests.support.mail import raw_mail
from tests.support.processes import run_together
from tests.support.workers import ingest_mails, pick_agents


def _support_group(runtime: Runtime) -> dict[str, int]:
    """Support: a and b available, c unavailable, d inactive; e available, not in Support."""
    with runtime.db.transaction() as session:
        factories.group(session, "Support")
        ids = {}
        for name, fields, groups in (
            ("a", {}, ["agents", "Support"]),
            ("b", {}, ["agents", "Support"]),
            ("c", {"available": False}, ["agents", "Support"]),
            ("d", {"active": False}, ["agents", "Support"]),
            ("e", {}, ["agents"]),
        ):
            ids[name] = factories.agent(
                session, f"{name}@hubdesk.example.com", groups=groups, **fields
            ).id
        return ids


def _auto(settings: Settings, **more: object) -> Settings:
    return settings.model_copy(
        update={"ticket_auto_assign": True, "ticket_auto_assign_group": "Support", **more}
    )


def _ingest(runtime: Runtime, n: int, prefix: str = "mail") -> list[int | None]:
    assignees = []
    for i in range(n):
        raw = raw_mail(subject=f"{prefix} {i}", sender=f"{prefix}{i}@example.com")
        outcome = pipeline.ingest(runtime, raw, source="test")
        with runtime.db.transaction(write=False) as session:
            ticket = session.get(Ticket, outcome.ticket_id)
            assert ticket is not None
            assignees.append(ticket.assigned_to_user_id)
    return assignees


def test_round_robin_among_available_agents_only(settings: Settings) -> None:
    runtime = Runtime.build(_auto(settings))
    try:
        ids = _support_group(runtime)
        assert _ingest(runtime, 5) == [ids["a"], ids["b"], ids["a"], ids["b"], ids["a"]]
        with runtime.db.transaction(write=False) as session:
            changes = (
                session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.action == "auto_assigned")
                    .order_by(AuditEntry.id)  # the first ticket's: without an order, any row
                    .limit(1)
                )
                .one()
                .changes
            )
        assert changes["reason"][1] == [{"message": "round_robin", "params": {"group": "Support"}}]
        assert english(changes["reason"][1]) == "round robin among the available agents of Support"
        assert changes["assigned_to_user_id"][1] == ids["a"]
    finally:
        runtime.close()


def test_least_open_picks_the_agent_with_fewest_open_tickets(settings: Settings) -> None:
    runtime = Runtime.build(_auto(settings, ticket_auto_assign_strategy="least_open"))
    try:
        ids = _support_group(runtime)
        with runtime.db.transaction() as session:
            for _ in range(2):
                factories.ticket(session, assigned_to_user_id=ids["a"])
            closed = factories.ticket(session, assigned_to_user_id=ids["b"])
            closed.status = "closed"  # closed tickets do not count
        # b has 0 open, a has 2: b, b, then a tie (2-2) taken in turn after b: a.
        assert _ingest(runtime, 3) == [ids["b"], ids["b"], ids["a"]]
    finally:
        runtime.close()


def test_nobody_available_falls_back_to_an_available_default_assignee(
    settings: Settings,
) -> None:
    runtime = Runtime.build(_auto(settings))
    try:
        ids = _support_group(runtime)
        with runtime.db.transaction() as session:
            from hubdesk.users.models import User

            for name in ("a", "b"):
                user = session.get(User, ids[name])
                assert user is not None
                user.available = False
    finally:
        runtime.close()
    runtime = Runtime.build(_auto(settings, ticket_default_assignee_id=ids["e"]))
    try:
        assert _ingest(runtime, 1) == [ids["e"]]
    finally:
        runtime.close()
    # The default assignee is inactive: the ticket stays unassigned, never given to them.
    runtime = Runtime.build(_auto(settings, ticket_default_assignee_id=ids["d"]))
    try:
        assert _ingest(runtime, 1, "again") == [None]
        with runtime.db.transaction(write=False) as session:
            reasons = [
                english(e.changes["reason"][1])
                for e in session.scalars(
                    select(AuditEntry).where(AuditEntry.action == "auto_assigned")
                )
            ]
        assert reasons[-1] == (
            "no available agent in group Support; "
            f"the default assignee (user {ids['d']}) is inactive or unavailable"
        )
    finally:
        runtime.close()


def test_two_workers_at_once_share_tickets_evenly(settings: Settings) -> None:
    auto = _auto(settings)
    runtime = Runtime.build(auto)
    try:
        ids = _support_group(runtime)
        results = run_together(
            ingest_mails, [(auto.model_dump_json(), prefix, 4) for prefix in ("x", "y")]
        )
        assert all(status == "created" for r in results for status in r["outcomes"]), results
        with runtime.db.transaction(write=False) as session:
            counts = Counter(
                session.scalars(select(Ticket.assigned_to_user_id).where(Ticket.source == "email"))
            )
        # Round robin by a locked cursor: never two picks from the same stale state.
        assert counts == {ids["a"]: 4, ids["b"]: 4}
    finally:
        runtime.close()


def test_picks_held_open_at_once_never_pick_from_stale_state(settings: Settings) -> None:
    """Each pick's transaction stays open a while (as an ingest's does): the second process
    must wait for the first one's choice, so the two share the agents evenly."""
    runtime = Runtime.build(settings)
    try:
        ids = _support_group(runtime)
        results = run_together(pick_agents, [(settings.database_url, "Support", 3, 0.2)] * 2)
        picked = Counter(user for r in results for user in r["picked"])
        assert picked == {ids["a"]: 3, ids["b"]: 3}
    finally:
        runtime.close()


def test_availability_through_the_api(api: Api) -> None:
    me = api.ok(api.get("/api/v1/users/me", "agents"))
    assert me["available"] is True
    # An agent may mark themself away; the change is audited like other user changes.
    changed = api.ok(api.patch(f"/api/v1/users/{me['id']}", "agents", json={"available": False}))
    assert changed["available"] is False
    response = api.patch(f"/api/v1/users/{me['id']}", "agents", json={"available": "maybe"})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"TICKET_AUTO_ASSIGN": "true"}, "TICKET_AUTO_ASSIGN_GROUP"),
        ({"TICKET_AUTO_ASSIGN_STRATEGY": "random"}, "TICKET_AUTO_ASSIGN_STRATEGY"),
    ],
)
def test_bad_assignment_settings_stop_start_up(env: dict[str, str], names: str) -> None:
    from hubdesk.config import load_settings
    from hubdesk.errors import ConfigError

    overrides = {key.lower(): value for key, value in env.items()}
    with pytest.raises(ConfigError, match=names):
        load_settings(_env_file=None, **overrides)
