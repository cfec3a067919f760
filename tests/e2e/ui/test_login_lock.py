"""An admin lifts a user's sign-in lock in a real browser (issue 11 bug 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hubdesk.runtime import Runtime
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import log_in
from tests.integration.ui.client import PASSWORD, make_user

pytestmark = pytest.mark.e2e


def _try(page: Page, server: str, email: str, password: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_sees_the_lock_and_unlocks_the_user(
    page: Page, browser: Browser, server: str, runtime: Runtime, admin: str, screenshots: Path
) -> None:
    """Five wrong passwords lock the user out of this browser's address; the admin sees
    "Locked until ..." in the user list and on the user's page (both pass axe-core's WCAG
    2.1 AA rules), presses Unlock, and the user signs in at once."""
    _user_id, victim = make_user(runtime, ["agents"], name="Lars Locked")
    other = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    try:
        theirs = other.new_page()
        for _ in range(5):
            _try(theirs, server, victim, "wrong password")
        _try(theirs, server, victim, PASSWORD)
        expect(theirs.get_by_text("Too many failed sign-ins")).to_be_visible()

        log_in(page, server, admin)
        page.goto(f"{server}/admin/users")
        row = page.get_by_role("row").filter(has_text="Lars Locked")
        expect(row).to_contain_text("Locked until")
        assert_accessible(page)
        row.get_by_role("link", name="Unlock").click()
        expect(page.get_by_role("heading", name="Sign-in lock")).to_be_visible()
        expect(page.locator(".lock-status")).to_contain_text("Locked until")
        assert_accessible(page)
        page.screenshot(path=screenshots / "admin-user-login-lock.png", full_page=True)
        page.get_by_role("button", name="Unlock").click()
        expect(page.get_by_role("status")).to_have_text("Sign-in lock lifted.")
        expect(page.locator(".lock-status")).to_contain_text("Not locked.")
        assert_accessible(page)

        _try(theirs, server, victim, PASSWORD)
        expect(theirs).to_have_url(f"{server}/")
    finally:
        other.close()
