"""Canned responses in Chromium: kept on their page (a refused one comes back as typed), then
inserted into the reply box with the ticket's values filled in, with and without JavaScript,
in English and Danish. (axe needs JavaScript: the pages are checked in the JavaScript run.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hubdesk.runtime import Runtime
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import LANGUAGES, Watch, assert_no_english, log_in, shot, speak
from tests.integration.ui.client import make_user
from tests.integration.ui.scenario import printer_ticket

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_keeps_a_canned_response_and_inserts_it_into_a_reply(
    page: Page,
    server: str,
    runtime: Runtime,
    agent: str,
    screenshots: Path,
    watch: Watch,
    language: str,
) -> None:
    made = printer_ticket(runtime)
    words = speak(runtime, agent, language)
    log_in(page, server, agent)
    page.get_by_role("link", name=words("Canned responses")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words("Canned responses"))
    expect(page.get_by_label(words("Share with all agents"))).to_have_count(0)
    page.get_by_label(words("Title")).fill("Technician")
    typed = "Dear {{contact.first_name}}, about {{ticket.numbr}}: a technician comes today."
    page.get_by_label(words("Text")).fill(typed)
    page.get_by_role("button", name=words("Save canned response")).click()
    problems = page.get_by_role("alert")
    unknown = words(
        "unknown placeholder {names}; use one of {known}", names="{{ticket.numbr}}", known=""
    )
    expect(problems).to_contain_text(unknown.split(";")[0])
    expect(page.get_by_label(words("Text"))).to_have_value(typed)
    expect(page.get_by_label(words("Title"))).to_have_value("Technician")
    assert_accessible(page)
    fixed = typed.replace("numbr", "number") + "\nRegards, {{agent.name}}"
    page.get_by_label(words("Text")).fill(fixed)
    page.get_by_role("button", name=words("Save canned response")).click()
    expect(page.get_by_role("status")).to_have_text(words("Canned response saved."))
    mine = page.get_by_role("region", name=words("Only mine"))
    expect(mine.get_by_role("link", name="Technician")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=screenshots / shot("canned-responses", language), full_page=True)

    page.goto(f"{server}/tickets/{made.ticket_id}")
    composer = page.get_by_role("region", name=words("Reply to the customer"))
    expect(composer).to_contain_text(
        f"{words('From')}: Agnes Agent via Support <support@support.example.com>"
    )
    body = page.get_by_label(words("Reply"), exact=True)
    body.fill("Hello. ")
    composer.get_by_label(words("Canned response")).select_option(label="Technician")
    composer.get_by_role("button", name=words("Insert")).click()
    expected = (
        f"Dear Alice, about {made.ticket_number}: a technician comes today.\nRegards, Agnes Agent"
    )
    expect(body).to_have_value("Hello. " + expected)
    assert_no_english(page, words)
    assert page.url.endswith(f"/tickets/{made.ticket_id}"), "the page was not reloaded"
    assert_accessible(page)
    page.get_by_role("button", name=words("Send reply")).click()
    queued = words("Reply queued for {recipients}; it is sent in a moment.").split("{")[0]
    expect(page.get_by_role("status")).to_contain_text(queued)
    expect(page.locator(".entry.mail-outbound")).to_contain_text("a technician comes today")

    # Changed and deleted on its own page.
    page.goto(f"{server}/canned-responses")
    page.get_by_role("link", name="Technician").click()
    page.get_by_label(words("Title")).fill("")
    page.get_by_label(words("Title")).press("Tab")
    page.get_by_role("button", name=words("Save canned response")).click()
    expect(page.get_by_label(words("Title"))).to_have_value("")
    assert "/canned-responses/" in page.url, "the browser kept the empty title from posting"
    page.get_by_role("button", name=words("Delete")).click()
    expect(page.get_by_role("status")).to_have_text(words("Canned response deleted."))
    expect(page.get_by_role("region", name=words("Only mine"))).to_contain_text(words("None yet."))
    assert watch.errors == []


def test_picker_without_javascript_and_shared_responses_in_danish(
    browser: Browser, server: str, runtime: Runtime, admin: str
) -> None:
    made = printer_ticket(runtime)
    _id, dane = make_user(runtime, ["admins"], name="Dorte Dansk")
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, server, dane)
        page.get_by_label("Language").select_option("da")
        page.get_by_role("button", name="Change").click()
        page.goto(f"{server}/canned-responses")
        expect(page.get_by_role("heading", level=1)).to_have_text("Standardsvar")
        page.get_by_label("Titel").fill("Tak")
        page.get_by_label("Tekst").fill("Kære {{customer.name}}, tak for din henvendelse.")
        page.get_by_label("Del med alle medarbejdere").check()
        page.get_by_role("button", name="Gem standardsvar").click()
        expect(page.get_by_role("status")).to_have_text("Standardsvaret er gemt.")
        shared = page.get_by_role("region", name="Delt med alle medarbejdere")
        expect(shared.get_by_role("link", name="Tak")).to_be_visible()

        page.goto(f"{server}/tickets/{made.ticket_id}")
        page.get_by_label("Standardsvar", exact=True).select_option(label="Tak (delt)")
        page.get_by_role("button", name="Indsæt").click()
        expect(page.get_by_label("Svar", exact=True)).to_have_value(
            "Kære Acme A/S, tak for din henvendelse."
        )
        assert "canned=" in page.url
    finally:
        context.close()
