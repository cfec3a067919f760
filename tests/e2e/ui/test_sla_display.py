"""The SLA in a real browser: the ticket page's SLA panel (due times, state) with no axe-core
WCAG violations, the list's SLA column, sort and filter, and the dashboard's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from tests.e2e.ui.conftest import log_in
from tests.integration.ui.mails import message
from tests.support.sla import ALWAYS_OPEN, policy

pytestmark = pytest.mark.e2e

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _tickets(runtime: Runtime) -> tuple[int, int]:
    """A 24x7 default policy; a fresh ticket (on track) and one received long ago (breached)."""
    with runtime.db.transaction() as session:
        policy(session, hours=ALWAYS_OPEN)
    fresh = ingest(runtime, message(subject="Fresh problem"), source="test")
    old = ingest(
        runtime,
        message(subject="Old problem", message_id="<old-sla@acme.example>"),
        source="test",
        received_at=datetime.now(UTC) - timedelta(days=3),
    )
    assert fresh.ticket_id is not None
    assert old.ticket_id is not None
    return fresh.ticket_id, old.ticket_id


def _no_violations(page: Page) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


def test_sla_on_the_ticket_page_list_and_dashboard(
    page: Page, server: str, runtime: Runtime, agent: str
) -> None:
    fresh, old = _tickets(runtime)
    log_in(page, server, agent)

    page.goto(f"{server}/tickets/{fresh}")
    panel = page.locator("#sla-panel")
    expect(panel.get_by_role("heading", name="SLA")).to_be_visible()
    expect(panel).to_contain_text("On track")
    expect(panel).to_contain_text("First response due")
    expect(panel.locator("dd time")).to_have_count(2)  # first response and resolution
    expect(page.locator(".ticket-head .facts")).to_contain_text("On track")
    _no_violations(page)

    page.goto(f"{server}/tickets/{old}")
    expect(page.locator("#sla-panel")).to_contain_text("Breached")
    _no_violations(page)

    page.goto(f"{server}/tickets?sort=sla_due")
    rows = page.locator("table.tickets tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Old problem")
    expect(rows.first).to_contain_text("Breached")
    expect(rows.last).to_contain_text("On track")
    _no_violations(page)

    page.get_by_label("SLA", exact=True).select_option("breached")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Old problem")

    page.goto(f"{server}/")
    sla_panel = page.locator("section[aria-labelledby='dash-sla']")
    expect(sla_panel).to_contain_text("Breached 1")
    expect(sla_panel.locator(".ticket-links li").first).to_contain_text("Old problem")
    _no_violations(page)

    # The check itself can fail: an image without a text alternative is a violation.
    page.set_content("<html lang='en'><title>t</title><main><img src='/x.png'></main></html>")
    assert Axe().run(page, options=WCAG).violations_count > 0
