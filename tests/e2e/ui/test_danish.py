"""Danish in Chromium: counts in their real plural form and the "why it is here" reason
translated on the ticket page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hubdesk.runtime import Runtime
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.scenario import printer_ticket

pytestmark = pytest.mark.e2e


def test_danish_counts_and_reasons(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch
) -> None:
    made = printer_ticket(runtime)
    log_in(page, server, agent)
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("status")).to_have_text("Sproget er skiftet.")
    page.goto(f"{server}/tickets")
    expect(page.locator(".result-count")).to_have_text("1 sag")
    assert_accessible(page)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    decision = page.locator(".entry.mail .decision").first
    expect(decision).to_contain_text("Hvorfor den er her")
    expect(decision).to_contain_text(
        "hverken In-Reply-To, References eller et sagsnummer i emnet passede til en sag"
    )
    assert_accessible(page)
    assert watch.errors == []
