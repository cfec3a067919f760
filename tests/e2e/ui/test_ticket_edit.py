"""The details form in Chromium: clearing fields, and a page opened earlier that meets a
colleague's change (made through the API, or on a second page) instead of overwriting it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.service import set_tags
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.client import make_user
from tests.integration.ui.scenario import printer_ticket
from tests.support import api as support_api

pytestmark = pytest.mark.e2e


def _busy_ticket(runtime: Runtime) -> int:
    """The printer ticket, assigned to a colleague and tagged."""
    made = printer_ticket(runtime)
    colleague, _email = make_user(runtime, ["agents"], name="Bo Colleague")
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        ticket.assigned_to_user_id = colleague
        set_tags(ticket, ["printer", "floor3"])
    return made.ticket_id


def _stored(runtime: Runtime, ticket_id: int) -> Ticket:
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def test_agent_clears_assignee_tags_customer_and_contact(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch
) -> None:
    ticket_id = _busy_ticket(runtime)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{ticket_id}")
    assert_accessible(page)
    details = page.locator("#details-form")
    details.get_by_label("Assignee").select_option(label="Nobody")
    details.get_by_label("Tags", exact=True).fill("")
    details.get_by_label("Customer").select_option(label="No customer")
    details.get_by_label("Contact").select_option(label="No contact")
    details.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Ticket saved.")).to_be_visible()
    stored = _stored(runtime, ticket_id)
    assert stored.assigned_to_user_id is None
    assert (stored.customer_id, stored.contact_id) == (None, None)
    assert stored.tag_rows == []
    assert watch.errors == []


def test_a_page_opened_earlier_shows_the_colleagues_change_and_reapplies_mine(
    page: Page, server: str, runtime: Runtime, agent: str, screenshots: Path, watch: Watch
) -> None:
    """Two pages on the same ticket: the second saves a new priority; the first then adds a
    tag and gets the conflict page (409) with both sides; "Save my changes again" writes the
    tag only, and an API change after that is caught the same way."""
    ticket_id = _busy_ticket(runtime)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{ticket_id}")
    other = page.context.new_page()
    other.goto(f"{server}/tickets/{ticket_id}")
    other.locator("#details-form").get_by_label("Priority").select_option(label="Critical")
    other.locator("#details-form").get_by_role("button", name="Save").click()
    expect(other.get_by_role("status").filter(has_text="Ticket saved.")).to_be_visible()

    tags = page.locator("#details-form").get_by_label("Tags", exact=True)
    tags.fill("printer, floor3, urgent")
    page.locator("#details-form").get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("was changed while you edited it")
    row = page.get_by_role("row", name="Priority")
    expect(row).to_contain_text("Normal")
    expect(row).to_contain_text("Critical")
    expect(page.get_by_role("row", name="Tags")).to_contain_text("printer, floor3, urgent")
    assert _stored(runtime, ticket_id).priority == "critical"
    assert [t.tag for t in _stored(runtime, ticket_id).tag_rows] == ["printer", "floor3"]
    assert_accessible(page)
    page.screenshot(path=screenshots / "ticket-conflict.png", full_page=True)

    page.get_by_role("button", name="Save my changes again").click()
    expect(page.get_by_role("status").filter(has_text="Ticket saved.")).to_be_visible()
    stored = _stored(runtime, ticket_id)
    assert stored.priority == "critical"
    assert [t.tag for t in stored.tag_rows] == ["printer", "floor3", "urgent"]

    _uid, token = support_api.make_user(runtime, ["agents"], name="Api Colleague")
    answer = page.request.patch(
        f"{server}/api/v1/tickets/{ticket_id}",
        data={"status": "in_progress"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.ok, answer.text()
    page.locator("#details-form").get_by_label("Subject").fill(
        "Printer prints blank pages (floor 3)"
    )
    page.locator("#details-form").get_by_role("button", name="Save").click()
    expect(page.get_by_role("row", name="Status")).to_contain_text("In progress")
    assert _stored(runtime, ticket_id).subject == "Printer prints blank pages"
    assert watch.errors == []
