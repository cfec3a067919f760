"""Kilobyte subjects (words, and one unbroken token) in Chromium: the ticket list and the
dashboard stay within the window, each subject shortened with an ellipsis; the ticket page
shows the whole subject."""

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

WORDY = "Printer on floor three is broken again " * 100  # ~3.9 KB of words
TOKEN = "X" * 4000  # one 4 KB word


def _overflow(page: Page) -> list[str]:
    """Elements wider than they show: the page, the main column, list items, and on a wide
    screen the table wrappers (on a phone a table scrolls inside its wrapper by design)."""
    wide = page.viewport_size is not None and page.viewport_size["width"] > 400
    selector = ".ticket-links li, .mail-list li, main" + (", .table-wrap" if wide else "")
    found: list[str] = page.evaluate(
        """(selector) => {
          const out = [];
          const root = document.documentElement;
          if (root.scrollWidth > root.clientWidth) {
            out.push(`page ${root.scrollWidth}>${root.clientWidth}`);
          }
          for (const el of document.querySelectorAll(selector)) {
            if (el.scrollWidth > el.clientWidth + 1) {
              out.push(`${el.className || el.tagName} ${el.scrollWidth}>${el.clientWidth}`);
            }
          }
          return out;
        }""",
        selector,
    )
    return found


@pytest.mark.parametrize("width", [1366, 390])
def test_long_subjects_are_shortened_in_lists_and_whole_on_the_ticket(
    page: Page, server: str, runtime: Runtime, agent: str, screenshots: Path, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    ids = []
    for subject in (WORDY.strip(), TOKEN):
        outcome = ingest(runtime, message(subject=subject, text="Long subject."), source="test")
        assert outcome.ticket_id is not None
        ids.append(outcome.ticket_id)
    log_in(page, server, agent)
    assert _overflow(page) == []
    shown = page.locator(".mail-list a").first.inner_text()
    assert shown.endswith("…")
    assert len(shown) < 300
    if width > 400:
        assert_accessible(page)
        page.screenshot(path=screenshots / "dashboard-long-subjects.png", full_page=True)

    page.goto(f"{server}/tickets")
    assert _overflow(page) == []
    links = page.locator("table.tickets td.subject a")
    expect(links).to_have_count(2)
    for text in links.all_inner_texts():
        assert text.endswith("…")
        assert len(text) < 300
    heights = page.locator("table.tickets tbody tr").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    header = page.locator("table.tickets thead tr").evaluate(
        "r => r.getBoundingClientRect().height"
    )
    assert max(heights) < 4 * header, (heights, header)
    if width > 400:
        assert_accessible(page)
        page.screenshot(path=screenshots / "tickets-long-subjects.png", full_page=True)

    page.goto(f"{server}/tickets/{ids[0]}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(WORDY.strip()[:1000].strip())
    assert _overflow(page) == []
