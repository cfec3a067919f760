"""Merging in Chromium: the merged ticket's mail shows on the target, and both tickets link
to each other (the header and the merge notes)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.mails import message
from tests.integration.ui.scenario import printer_ticket

pytestmark = pytest.mark.e2e


def test_merge_moves_the_mail_and_links_both_ways(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch
) -> None:
    made = printer_ticket(runtime)
    raw = message(subject="Scanner jams", sender="bob@bob.example", text="Scanner jams daily.")
    second = ingest(runtime, raw, source="test")
    assert second.ticket_id is not None
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{second.ticket_id}")
    page.get_by_label("Merge this ticket into ticket number").fill(made.ticket_number)
    page.get_by_role("button", name="Merge", exact=True).click()
    page.wait_for_url(f"{server}/tickets/{made.ticket_id}")
    expect(page.locator(".entry.mail").filter(has_text="Scanner jams daily.")).to_be_visible()
    header_link = page.locator(".merged-from").get_by_role("link", name=second.ticket_number)
    expect(header_link).to_be_visible()
    note_link = page.locator(".entry.comment").get_by_role("link", name=second.ticket_number)
    expect(note_link).to_be_visible()
    assert_accessible(page)
    note_link.click()
    page.wait_for_url(f"{server}/tickets/{second.ticket_id}")
    expect(page.locator(".entry.mail")).to_have_count(0)
    back = page.locator(".entry.comment").get_by_role("link", name=made.ticket_number)
    expect(back).to_be_visible()
    back.click()
    page.wait_for_url(f"{server}/tickets/{made.ticket_id}")
    assert watch.errors == []
