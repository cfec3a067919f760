"""Signing in and out, the keyboard, Danish, and a phone-sized screen, in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hubdesk.runtime import Runtime
from tests.e2e.ui.conftest import log_in
from tests.integration.ui.client import PASSWORD
from tests.integration.ui.scenario import printer_ticket

pytestmark = pytest.mark.e2e


def test_sign_in_with_the_keyboard_and_out_again(
    page: Page, server: str, runtime: Runtime, agent: str, screenshots: Path
) -> None:
    """Logged out, a page sends the browser to the login form, which works with the keyboard
    alone and returns to the page asked for; the skip link is the first stop; after logging
    out the pages are closed again."""
    made = printer_ticket(runtime)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    expect(page).to_have_url(f"{server}/login?next=%2Ftickets%2F{made.ticket_id}")
    page.screenshot(path=screenshots / "login.png")
    expect(page.get_by_label("E-mail")).to_be_focused()
    page.keyboard.type(agent)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/tickets/{made.ticket_id}")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{server}/login")
    page.goto(f"{server}/tickets")
    expect(page).to_have_url(f"{server}/login?next=%2Ftickets")


def test_danish_is_remembered_and_pages_fit_a_phone(
    page: Page, browser: Browser, server: str, runtime: Runtime, agent: str, screenshots: Path
) -> None:
    """Choosing Dansk translates the pages and is remembered after signing in again (the
    login form itself follows the browser's language); on a phone-sized screen the ticket
    page and the list need no sideways scrolling."""
    made = printer_ticket(runtime)
    log_in(page, server, agent)
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("status")).to_have_text("Sproget er skiftet.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overblik")
    page.get_by_role("button", name="Log ud").click()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        small = phone.new_page()
        small.goto(f"{server}/login")
        small.get_by_label("E-mail").fill(agent)
        small.get_by_label("Password").fill(PASSWORD)
        small.get_by_role("button", name="Sign in").click()
        expect(small.get_by_role("navigation", name="Hovedmenu")).to_contain_text("Sager")
        small.goto(f"{server}/tickets/{made.ticket_id}")
        expect(small.get_by_role("heading", name="Historik")).to_be_visible()
        expect(small.get_by_role("button", name="Send svar")).to_be_visible()
        width = small.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px screen"
        small.screenshot(path=screenshots / "phone-ticket-da.png", full_page=True)
        small.goto(f"{server}/tickets")
        width = small.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"the list is {width}px wide on a 390px screen"
    finally:
        phone.close()
