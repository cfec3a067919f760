"""The forms that create things by hand, in Chromium: a ticket from a phone call, customers
and contacts, files, prepaid cards, API tokens and "My account". Each page is checked with
axe-core, refused input comes back as typed, and a double click creates one thing."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.support import factories

pytestmark = pytest.mark.e2e


def _count(runtime: Runtime, model: type) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_agent_opens_a_ticket_from_a_phone_call(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch, screenshots: Path
) -> None:
    with runtime.db.transaction() as session:
        acme = factories.customer(session, "Acme A/S")
        other = factories.customer(session, "Other ApS")
        factories.contact(session, "alice@acme.example", customer_id=acme.id)
        factories.contact(session, "bob@other.example", customer_id=other.id)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets")
    page.get_by_role("link", name="New ticket").click()
    page.wait_for_url(f"{server}/tickets/new")
    assert_accessible(page)
    form = page.locator("#new-ticket-form")
    form.get_by_label("Subject").fill("Printer on floor 3")
    form.get_by_label("What the customer asked").fill("Called at 9:10: blank pages.")
    form.get_by_label("Customer", exact=True).select_option(label="Acme A/S")
    form.get_by_label("Contact", exact=True).select_option(label="bob@other.example (Other ApS)")
    form.get_by_label("Priority").select_option(label="High")
    page.screenshot(path=screenshots / "ticket-new.png", full_page=True)
    form.get_by_role("button", name="Open ticket").click()
    # Refused: Bob is not Acme's; everything typed is still there, with the reason.
    expect(page.get_by_role("alert")).to_contain_text("contact")
    expect(form.get_by_label("Subject")).to_have_value("Printer on floor 3")
    expect(form.get_by_label("What the customer asked")).to_have_value(
        "Called at 9:10: blank pages."
    )
    expect(form.get_by_label("Priority")).to_have_value("high")
    assert_accessible(page)
    assert _count(runtime, Ticket) == 0
    form.get_by_label("Contact", exact=True).select_option(label="alice@acme.example (Acme A/S)")
    form.get_by_role("button", name="Open ticket").dblclick()
    expect(page.get_by_role("heading", name="Printer on floor 3")).to_be_visible()
    assert_accessible(page)
    assert _count(runtime, Ticket) == 1
    assert watch.errors == []
