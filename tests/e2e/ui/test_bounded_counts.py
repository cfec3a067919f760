"""Counts that stopped at HUBDESK_LIST_COUNT_LIMIT (here 3) in Chromium: the ticket list says
"More than 25 tickets" and "Page 1 of at least 2", its Next link leads to the last page with
the exact figures, the dashboard shows "3+" and "8+"; axe finds nothing on any of them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hubdesk.config import Settings
from hubdesk.runtime import Runtime
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import log_in
from tests.support import factories

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"list_count_limit": 3})


def test_bounded_counts_read_as_more_than(
    page: Page, server: str, runtime: Runtime, agent: str
) -> None:
    with runtime.db.transaction() as session:
        for i in range(30):
            factories.ticket(session, f"Printer {i}")
    log_in(page, server, agent)
    expect(page.locator("#dash-unassigned .count")).to_have_text("8+")
    expect(page.locator("a[href$='priority=normal'] .count")).to_have_text("3+")
    assert_accessible(page)
    page.goto(f"{server}/tickets")
    expect(page.locator("p.result-count")).to_have_text("More than 25 tickets")
    expect(page.locator("nav.pager")).to_contain_text("Page 1 of at least 2")
    assert_accessible(page)
    page.locator("nav.pager").get_by_role("link", name="Next").click()
    expect(page.locator("p.result-count")).to_have_text("30 tickets")
    expect(page.locator("nav.pager")).to_contain_text("Page 2 of 2")
    expect(page.locator("table.tickets tbody tr")).to_have_count(5)
    assert_accessible(page)
