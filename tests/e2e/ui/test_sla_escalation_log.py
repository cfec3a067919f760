"""The SLA escalations' run log on the ticket's timeline, in the reader's language: what each
action of a breach did is stored as message keys and translated when shown; a row written
before the keys (plain English) is shown as stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.runtime import Runtime
from hubdesk.sla.escalations import evaluate
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users.models import Group, User
from hubdesk.users.permissions import SYSTEM
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import LANGUAGES, Watch, assert_no_english, log_in, speak
from tests.support import factories
from tests.support.sla import ALWAYS_OPEN, policy

pytestmark = pytest.mark.e2e

OLD_LOG = "notify_assignee: queued outbox message 7"


def _breached(runtime: Runtime, agent: str) -> tuple[int, int]:
    """A low ticket of `agent` breached under a 24x7 policy whose breach notifies the
    assignee, raises the priority, notifies and reassigns to an empty group; and a ticket
    with an escalation row of the old kind (plain English)."""
    now = datetime.now(UTC)
    with runtime.db.transaction() as session:
        session.add(Group(name="Tier 9"))
        session.flush()
        steps = [
            "notify_assignee",
            "raise_priority",
            {"action": "notify_group", "group": "Tier 9"},
            {"action": "reassign", "group": "Tier 9"},
        ]
        policy(session, hours=ALWAYS_OPEN, escalations={"breach": steps})
        user_id = session.scalars(select(User.id).where(User.email == agent)).one()
        late = factories.ticket(
            session,
            "Late",
            now=now - timedelta(minutes=300),
            priority="low",
            assigned_to_user_id=user_id,
        )
        old = factories.ticket(session, "Logged in English", now=now)
        tickets.record_event(session, SYSTEM, old, "sla_breached", {"actions": [None, [OLD_LOG]]})
        ids = late.id, old.id
    assert evaluate(runtime, now) == 1
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ids[0])
        assert ticket is not None
        assert ticket.priority == "normal"
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_escalation_log_in_the_readers_language(
    page: Page,
    server: str,
    runtime: Runtime,
    agent: str,
    watch: Watch,
    language: str,
    screenshots: Path,
) -> None:
    late, old = _breached(runtime, agent)
    words = speak(runtime, agent, language)
    log_in(page, server, agent)

    page.goto(f"{server}/tickets/{late}")
    entry = page.locator(".entry.event").filter(has_text=words("SLA breached"))
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(f"{words('SLA target')}: {words('First response due')}")
    log = "; ".join(
        [
            words("notify the assignee: {result}", result=words("not sent (see settings)")),
            words(
                "raise the priority: {result}",
                result=words("{before} -> {after}", before=words("low"), after=words("normal")),
            ),
            words(
                "notify group {group}: {result}",
                group="Tier 9",
                result=words(
                    "nobody in {group} notified (no active member takes notifications, "
                    "see settings)",
                    group="Tier 9",
                ),
            ),
            words(
                "reassign: {result}",
                result=words(
                    "{why}: not reassigned",
                    why=words("no available agent in group {group}", group="Tier 9"),
                ),
            ),
        ]
    )
    expect(entry).to_contain_text(f"{words('Escalation')}: {log}")
    assert_no_english(page, words)
    assert_accessible(page)
    entry.screenshot(path=screenshots / f"sla-escalation-log-{language}.png")

    page.goto(f"{server}/tickets/{old}")
    old_entry = page.locator(".entry.event").filter(has_text=words("SLA breached"))
    expect(old_entry).to_contain_text(f"{words('Escalation')}: {OLD_LOG}")
    assert watch.errors == []
