"""An agent's availability for automatic assignment on the admin user page, in Chromium:
the check box saves, the user list shows it, and saving again without a change keeps it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hubdesk.runtime import Runtime
from hubdesk.users.models import User
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.client import make_user

pytestmark = pytest.mark.e2e


def _available(runtime: Runtime, user_id: int) -> bool:
    with runtime.db.transaction(write=False) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.available


def test_mark_an_agent_unavailable_and_back(
    page: Page, server: str, runtime: Runtime, admin: str, watch: Watch
) -> None:
    agent_id, _email = make_user(runtime, ["agents"], name="Bo Away")
    log_in(page, server, admin)
    page.goto(f"{server}/admin/users/{agent_id}")
    box = page.get_by_label("Available (takes automatically assigned tickets)")
    expect(box).to_be_checked()
    box.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("User saved.")
    assert _available(runtime, agent_id) is False
    # A second save of the same page changes nothing.
    with page.expect_navigation():  # the answer is shown before anything is checked
        page.get_by_role("button", name="Save").click()
    assert _available(runtime, agent_id) is False
    page.goto(f"{server}/admin/users")
    row = page.locator("tr").filter(has_text="Bo Away")
    expect(row.locator("td").nth(4)).to_have_text("No")
    assert_accessible(page)
    page.goto(f"{server}/admin/users/{agent_id}")
    page.get_by_label("Available (takes automatically assigned tickets)").check()
    page.get_by_role("button", name="Save").click()
    # the saved page, not the one still leaving (axe on a page mid-navigation finds no document)
    expect(page.locator(".flash")).to_have_text("User saved.")
    assert _available(runtime, agent_id) is True
    assert_accessible(page)
    assert watch.errors == []
