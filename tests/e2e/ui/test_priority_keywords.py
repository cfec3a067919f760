"""Priority keywords in a real browser: an admin adds and removes words (a refused word
keeps what was typed), the next mail uses them, and the ticket says why it has its
priority (a keyword and where, or the agent who set it), in English and Danish."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import log_in
from tests.integration.ui.mails import message

pytestmark = pytest.mark.e2e


def test_admin_edits_keywords_and_the_ticket_says_why(
    page: Page, server: str, runtime: Runtime, admin: str, screenshots: Path
) -> None:
    log_in(page, server, admin)
    page.get_by_role("link", name="Priority keywords").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Priority keywords")
    expect(page.locator("table.keywords tbody tr")).to_have_count(16)
    form = page.locator("#keyword-form")
    form.get_by_label("Priority").select_option("critical")
    form.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Add keyword").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the keyword.")
    expect(form.get_by_label("Priority")).to_have_value("critical")
    expect(form.get_by_label("Language")).to_have_value("da")
    form.get_by_label("Keyword").fill("Urgent")
    page.get_by_role("button", name="Add keyword").click()
    expect(page.get_by_role("alert")).to_contain_text("already a critical keyword")
    expect(form.get_by_label("Keyword")).to_have_value("Urgent")
    form.get_by_label("Keyword").fill("brænder")
    page.get_by_role("button", name="Add keyword").click()
    expect(page.get_by_role("status").first).to_have_text("Keyword brænder added.")
    expect(page.locator("table.keywords tbody tr")).to_have_count(17)
    assert_accessible(page)
    page.screenshot(path=screenshots / "priority-keywords.png", full_page=True)

    made = ingest(runtime, message(subject="Serveren brænder", text="Hjælp."), source="test")
    page.goto(f"{server}/tickets/{made.ticket_id}")
    why = page.locator("#d-priority-why")
    expect(why).to_have_text("Why: Keyword “brænder” in the subject")
    expect(page.locator("#d-priority")).to_have_value("critical")
    assert_accessible(page)

    page.locator("#d-priority").select_option("low")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(why).to_have_text("Why: Set by Ada Admin")

    page.goto(f"{server}/admin/priority-keywords")
    page.get_by_role("button", name="Remove the keyword brænder").click()
    expect(page.get_by_role("status").first).to_have_text("Keyword brænder removed.")
    again = ingest(runtime, message(subject="Stadig brænder", text="Hjælp."), source="test")
    page.locator("#top-language").select_option("da")
    page.get_by_role("button", name="Change").click()
    page.goto(f"{server}/tickets/{again.ticket_id}")
    expect(page.locator("#d-priority-why")).to_have_text(
        "Hvorfor: Intet prioritetsnøgleord i mailen: standarden"
    )
