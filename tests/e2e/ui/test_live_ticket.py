"""Two agents on one ticket in two browsers: each sees that the other is viewing and then
replying, and a note one adds shows up on the other's page without a reload (what that agent
was typing stays). In English and Danish, with axe on the updated page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from hubdesk.runtime import Runtime
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import LANGUAGES, Watch, assert_no_english, log_in, shot, speak
from tests.integration.ui.client import make_user
from tests.integration.ui.scenario import printer_ticket

pytestmark = pytest.mark.e2e


@pytest.fixture
def colleague_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_colleagues_see_each_other_and_new_notes_without_reload(
    page: Page,
    colleague_page: Page,
    server: str,
    runtime: Runtime,
    agent: str,
    screenshots: Path,
    watch: Watch,
) -> None:
    made = printer_ticket(runtime)
    _id, anna = make_user(runtime, ["agents"], name="Anna Andersen")
    url = f"{server}/tickets/{made.ticket_id}"
    log_in(page, server, agent)
    page.goto(url)
    expect(page.locator("#presence")).to_be_hidden()
    page.evaluate("() => { window.__notReloaded = true; }")
    page.get_by_label("Note", exact=True).fill("half-written thought")

    log_in(colleague_page, server, anna)
    colleague_page.goto(url)
    expect(colleague_page.locator("#presence")).to_have_text(
        "Agnes Agent is also viewing this ticket."
    )
    expect(page.locator("#presence")).to_have_text("Anna Andersen is also viewing this ticket.")

    colleague_page.get_by_label("Reply", exact=True).fill("We are on it")
    expect(page.locator("#presence")).to_have_text("Anna Andersen is replying.")
    assert_accessible(page)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=screenshots / "ticket-collision.png")

    colleague_page.get_by_label("Note", exact=True).fill("Spare part ordered, @agnes")
    colleague_page.get_by_role("button", name="Add note").click()
    expect(colleague_page.get_by_role("status")).to_have_text("Internal note added.")
    expect(page.locator(".entry.comment.internal")).to_contain_text("Spare part ordered")
    expect(page.locator("#live-updated")).to_be_visible()
    assert page.evaluate("() => window.__notReloaded") is True
    expect(page.get_by_label("Note", exact=True)).to_have_value("half-written thought")

    colleague_page.get_by_label("Status", exact=True).select_option("in_progress")
    colleague_page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("list", name="Ticket facts")).to_contain_text("In progress")
    assert_accessible(page)
    assert watch.errors == []


def test_presence_in_danish(
    page: Page, colleague_page: Page, server: str, runtime: Runtime, agent: str
) -> None:
    made = printer_ticket(runtime)
    _id, anna = make_user(runtime, ["agents"], name="Anna Andersen")
    log_in(page, server, agent)
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    log_in(colleague_page, server, anna)
    colleague_page.goto(f"{server}/tickets/{made.ticket_id}")
    page.goto(f"{server}/tickets/{made.ticket_id}")
    expect(page.locator("#presence")).to_have_text("Anna Andersen kigger også på denne sag.")
    colleague_page.get_by_label("Reply", exact=True).focus()
    expect(page.locator("#presence")).to_have_text("Anna Andersen skriver et svar.")
    assert_accessible(page)
    page.get_by_role("link", name="Standardsvar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Standardsvar")
    assert_accessible(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_reply_box_on_top_with_newest_first(
    page: Page, server: str, runtime: Runtime, agent: str, screenshots: Path, language: str
) -> None:
    made = printer_ticket(runtime)
    words = speak(runtime, agent, language)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    page.get_by_label("Note", exact=True).fill("Newest thing on the ticket")
    page.get_by_role("button", name=words("Add note")).click()
    expect(page.get_by_role("status")).to_have_text(words("Internal note added."))
    entries = page.locator(".timeline > li")
    expect(entries.last).to_contain_text("Newest thing on the ticket")
    composer = page.get_by_role("region", name=words("Reply to the customer"))
    assert _top(composer) > _top(entries.first)

    page.get_by_role("link", name=words("Show newest first, with the reply box on top")).click()
    expect(entries.first).to_contain_text("Newest thing on the ticket")
    assert _top(composer) < _top(entries.first)
    assert _top(composer) < 900, "the reply box is on the first screen"
    page.get_by_label(words("Reply"), exact=True).fill("On top")
    assert_no_english(page, words)
    assert_accessible(page)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=screenshots / shot("ticket-newest-first", language))
    page.get_by_role("link", name=words("Show oldest first")).click()
    expect(entries.last).to_contain_text("Newest thing on the ticket")


def _top(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return float(box["y"])
