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
from tests.e2e.ui.conftest import LANGUAGES, assert_no_english, log_in, shot, speak
from tests.integration.ui.mails import message

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_edits_keywords_and_the_ticket_says_why(
    page: Page, server: str, runtime: Runtime, admin: str, screenshots: Path, language: str
) -> None:
    words = speak(runtime, admin, language)
    log_in(page, server, admin)
    page.get_by_role("link", name=words("Priority keywords")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words("Priority keywords"))
    expect(page.locator("table.keywords tbody tr")).to_have_count(16)
    form = page.locator("#keyword-form")
    form.get_by_label(words("Priority")).select_option("critical")
    form.get_by_label(words("Language")).select_option("da")
    page.get_by_role("button", name=words("Add keyword")).click()
    expect(page.get_by_role("alert")).to_contain_text(words("Enter the keyword."))
    expect(form.get_by_label(words("Priority"))).to_have_value("critical")
    expect(form.get_by_label(words("Language"))).to_have_value("da")
    form.get_by_label(words("Keyword")).fill("Urgent")
    page.get_by_role("button", name=words("Add keyword")).click()
    expect(page.get_by_role("alert")).to_contain_text("already a critical keyword")
    expect(form.get_by_label(words("Keyword"))).to_have_value("Urgent")
    form.get_by_label(words("Keyword")).fill("brænder")
    page.get_by_role("button", name=words("Add keyword")).click()
    expect(page.get_by_role("status").first).to_have_text(
        words("Keyword {word} added.", word="brænder")
    )
    expect(page.locator("table.keywords tbody tr")).to_have_count(17)
    assert_no_english(page, words, data="table.keywords tbody td:first-child")
    assert_accessible(page)
    page.screenshot(path=screenshots / shot("priority-keywords", language), full_page=True)

    made = ingest(runtime, message(subject="Serveren brænder", text="Hjælp."), source="test")
    page.goto(f"{server}/tickets/{made.ticket_id}")
    why = page.locator("#d-priority-why")
    expect(why).to_have_text(
        words("Why: {reason}", reason=words("Keyword “{word}” in the subject", word="brænder"))
    )
    expect(page.locator("#d-priority")).to_have_value("critical")
    assert_accessible(page)

    page.locator("#d-priority").select_option("low")
    page.get_by_role("button", name=words("Save"), exact=True).click()
    expect(why).to_have_text(
        words("Why: {reason}", reason=words("Set by {name}", name="Ada Admin"))
    )

    page.goto(f"{server}/admin/priority-keywords")
    page.get_by_role("button", name=words("Remove the keyword {word}", word="brænder")).click()
    expect(page.get_by_role("status").first).to_have_text(
        words("Keyword {word} removed.", word="brænder")
    )
    again = ingest(runtime, message(subject="Stadig brænder", text="Hjælp."), source="test")
    page.locator("#top-language").select_option("da")
    page.get_by_role("button", name=words("Change")).click()
    page.goto(f"{server}/tickets/{again.ticket_id}")
    expect(page.locator("#d-priority-why")).to_have_text(
        "Hvorfor: Intet prioritetsnøgleord i mailen: standarden"
    )
