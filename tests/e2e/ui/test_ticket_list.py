"""The ticket list in a real browser: filters, full-text search, sorting, bulk assign/close."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.e2e.ui.conftest import log_in
from tests.integration.ui.mails import message

pytestmark = pytest.mark.e2e


def _ingest_three(runtime: Runtime) -> None:
    for subject, text in (
        ("URGENT: mail server down", "Nobody can send mail. The server is down."),
        ("Question about the invoice", "Please explain line 3 of the invoice. #billing"),
        ("Printer prints blank pages", "Since the update the printer prints nothing."),
    ):
        assert ingest(runtime, message(subject=subject, text=text), source="test").ticket_id


def test_filters_search_sort_and_bulk_actions(
    page: Page, server: str, runtime: Runtime, agent: str
) -> None:
    """Priority and tag filters and the search narrow the list to the right ticket; sorting by
    priority puts the critical one first; bulk assign gives all three to the agent and bulk
    close closes the chosen one (through resolved, as the state machine requires)."""
    _ingest_three(runtime)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets")
    rows = page.locator("table.tickets tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Priority", exact=True).select_option("critical")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("URGENT: mail server down")

    page.goto(f"{server}/tickets")
    page.get_by_label("Tag", exact=True).fill("billing")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Question about the invoice")

    page.goto(f"{server}/tickets")
    page.get_by_label("Search", exact=True).fill("printer nothing")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Printer prints blank pages")

    page.goto(f"{server}/tickets?sort=-priority")
    expect(rows.first).to_contain_text("URGENT: mail server down")
    page.get_by_role("link", name="Priority").click()
    expect(rows.last).to_contain_text("URGENT: mail server down")

    page.goto(f"{server}/tickets")
    page.get_by_label("Select all").check()
    page.get_by_label("Action").select_option("assign")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").first).to_contain_text("Changed 3 tickets:")
    for row in rows.all():
        expect(row).to_contain_text("Agnes Agent")

    page.locator("tr", has_text="URGENT").get_by_role("checkbox").check()
    page.get_by_label("Action").select_option("close")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").first).to_contain_text("Changed 1 ticket:")
    expect(rows).to_have_count(2)
    with runtime.db.transaction(write=False) as session:
        closed = session.scalars(select(Ticket).where(Ticket.status == "closed")).all()
        assert [t.subject for t in closed] == ["URGENT: mail server down"]
        assert closed[0].resolved_at is not None
