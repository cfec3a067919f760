"""Giving a ticket to another agent tells that agent once, whichever way it was assigned: the
API, the ticket page's details form, or a bulk assign from the list; taking a ticket oneself
tells nobody (the notification lives in the ticket service, both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hubdesk.config import Settings
from hubdesk.intake.pipeline import ingest
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.integration.ui.client import UiClient, flash_of, make_user
from tests.integration.ui.mails import message
from tests.integration.ui.scenario import printer_ticket
from tests.integration.ui.test_ticket_edit import _details_form
from tests.support import api as support_api


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Notifications can be queued (an SMTP host is named; nothing is sent here)."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        smtp_host="127.0.0.1",
        _env_file=None,  # type: ignore[call-arg]
    )


def _notified(runtime: Runtime, ticket_id: int) -> list[tuple[str, ...]]:
    """The recipients of each assignment notification queued for the ticket."""
    with runtime.db.transaction(write=False) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "notification", OutboxMessage.ticket_id == ticket_id)
            .order_by(OutboxMessage.id)
        )
        return [tuple(row.recipients) for row in rows]


def _all_notifications(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        query = select(func.count()).where(OutboxMessage.kind == "notification")
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def test_assigning_by_api_notifies_once_and_self_assignment_not(
    ui: UiClient, runtime: Runtime
) -> None:
    made = printer_ticket(runtime)
    other, other_email = make_user(runtime, ["agents"], name="Olga Other")
    me, token = support_api.make_user(runtime, ["agents"], name="Mads Me")
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/tickets/{made.ticket_id}"
    assert ui.client.patch(url, json={"assigned_to_user_id": me}, headers=auth).is_success
    assert _notified(runtime, made.ticket_id) == []
    assert ui.client.patch(url, json={"assigned_to_user_id": other}, headers=auth).is_success
    assert _notified(runtime, made.ticket_id) == [(other_email,)]
    # The same assignment again changes nothing and tells nobody again.
    assert ui.client.patch(url, json={"assigned_to_user_id": other}, headers=auth).is_success
    assert _notified(runtime, made.ticket_id) == [(other_email,)]


def test_assigning_on_the_ticket_page_notifies_once(ui: UiClient, runtime: Runtime) -> None:
    made = printer_ticket(runtime)
    other, other_email = make_user(runtime, ["agents"], name="Olga Other")
    me = ui.log_in_as(["agents"], name="Mads Me")
    form = _details_form(ui.get(f"/tickets/{made.ticket_id}").text)
    form["assigned_to_user_id"] = str(me)
    assert flash_of(runtime, ui.post(f"/tickets/{made.ticket_id}/edit", form)).text == (
        "Ticket saved."
    )
    assert _notified(runtime, made.ticket_id) == []
    form = _details_form(ui.get(f"/tickets/{made.ticket_id}").text)
    form["assigned_to_user_id"] = str(other)
    assert flash_of(runtime, ui.post(f"/tickets/{made.ticket_id}/edit", form)).text == (
        "Ticket saved."
    )
    assert _notified(runtime, made.ticket_id) == [(other_email,)]
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        assert ticket.assigned_to_user_id == other


def test_bulk_assign_notifies_once_per_ticket(ui: UiClient, runtime: Runtime) -> None:
    first = printer_ticket(runtime)
    second = ingest(runtime, message(subject="Scanner jams", sender="bo@acme.example"), source="t")
    assert second.ticket_id is not None
    other, other_email = make_user(runtime, ["agents"], name="Olga Other")
    me = ui.log_in_as(["agents"], name="Mads Me")
    ids = [first.ticket_id, second.ticket_id]
    done = ui.post(
        "/tickets/bulk",
        {"action": "assign", "ids": ids, "assignee": str(other), "confirmed": "1"},
    )
    assert done.status_code == 303
    assert _notified(runtime, first.ticket_id) == [(other_email,)]
    assert _notified(runtime, second.ticket_id) == [(other_email,)]
    # Taking both back oneself tells nobody.
    before = _all_notifications(runtime)
    mine = {"action": "assign", "ids": ids, "assignee": str(me), "confirmed": "1"}
    assert ui.post("/tickets/bulk", mine).status_code == 303
    assert _all_notifications(runtime) == before


def test_a_ticket_opened_by_api_for_a_colleague_notifies_them(
    ui: UiClient, runtime: Runtime
) -> None:
    """`POST /api/v1/tickets` with an assignee tells them, as the new-ticket page does; a
    ticket opened for oneself tells nobody."""
    other, other_email = make_user(runtime, ["agents"], name="Olga Other")
    me, token = support_api.make_user(runtime, ["agents"], name="Mads Me")
    auth = {"Authorization": f"Bearer {token}"}
    made = []
    for assignee in (other, me):
        answer = ui.client.post(
            "/api/v1/tickets",
            json={
                "subject": "By phone",
                "description": "Called in",
                "assigned_to_user_id": assignee,
            },
            headers=auth,
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["id"])
    assert _notified(runtime, made[0]) == [(other_email,)]
    assert _notified(runtime, made[1]) == []
