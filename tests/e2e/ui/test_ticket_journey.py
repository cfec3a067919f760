"""An agent's day in a real browser: find the ticket an ingested mail opened, read its thread,
answer it, note, log time on a prepaid card, and change its status and priority."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.prepaid.models import PrepaidCard
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Comment, Ticket
from tests.e2e.ui.conftest import Watch, log_in, pwned
from tests.integration.ui.scenario import printer_ticket

pytestmark = pytest.mark.e2e


def test_agent_finds_and_reads_a_ticket_made_from_mail(
    page: Page, server: str, runtime: Runtime, agent: str, screenshots: Path, watch: Watch
) -> None:
    """The dashboard lists the new mail; the list's search finds its ticket; the ticket shows
    the mail's new text with the quote and signature folded, why it landed there, its file,
    and on request its HTML in a sandboxed frame with the inline image and without the remote
    one."""
    made = printer_ticket(runtime)
    log_in(page, server, agent)
    newest = page.get_by_role("region", name="Newest mail")
    expect(newest).to_contain_text("Printer prints blank pages")
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)

    page.get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_label("Search", exact=True).fill("blank pages")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status")).to_have_text("1 ticket")
    page.screenshot(path=screenshots / "tickets.png", full_page=True)
    page.get_by_role("link", name="Printer prints blank pages").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(made.ticket_number)
    mail = page.locator(".entry.mail").first
    expect(mail).to_contain_text("prints only blank pages since the update")
    expect(mail).to_contain_text("New conversation")
    quoted = mail.locator("details.quoted")
    expect(quoted.get_by_text("Please describe the problem.")).to_be_hidden()
    quoted.locator("summary").click()
    expect(quoted.get_by_text("Please describe the problem.")).to_be_visible()
    file_link = mail.get_by_role("link", name="printer-log.txt")
    expect(file_link).to_be_visible()
    download = page.request.get(server + file_link.get_attribute("href"))
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"

    mail.get_by_role("link", name="Show formatted version").click()
    frame_element = page.locator("iframe.mail-frame")
    expect(frame_element).to_have_attribute("sandbox", re.compile(r"^allow-popups"))
    frame = page.frame_locator("iframe.mail-frame")
    expect(frame.locator("body")).to_contain_text("printer on floor 3")
    logo = frame.get_by_alt_text("Acme logo")
    expect(logo).to_have_js_property("naturalWidth", 1)
    expect(frame.get_by_alt_text("tracker")).not_to_have_attribute("src", re.compile("."))
    expect(page.get_by_role("link", name="Load remote images")).to_be_visible()
    page.screenshot(path=screenshots / "ticket-html.png", full_page=True)
    assert pwned(page) == [None] * len(page.frames)
    assert watch.errors == []
    assert watch.dialogs == []


def test_agent_answers_notes_logs_time_and_changes_the_ticket(
    page: Page, server: str, runtime: Runtime, agent: str, screenshots: Path
) -> None:
    """A reply mailed to the contact with a file (waiting in the outbox, shown as outgoing
    mail, the ticket now waiting for the customer), an internal note, a worklog drawn from the
    prepaid card (its balance drops on the page and in the database), and a new status and
    priority: each shows in the timeline."""
    made = printer_ticket(runtime)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{made.ticket_id}")

    composer = page.get_by_role("region", name="Reply to the customer")
    expect(composer).to_contain_text("To: Alice Customer <alice@acme.example>")
    page.get_by_label("Reply", exact=True).fill("We are sending a technician today.")
    page.get_by_label("printer-log.txt").check()
    expect(page.get_by_label("After sending, set the status to")).to_have_value("waiting_customer")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply queued for alice@acme.example.")
    reply = page.locator(".entry.mail-outbound").filter(has_text="sending a technician")
    expect(reply).to_contain_text("Outgoing mail")
    expect(reply).to_contain_text("Waiting to be sent")

    page.get_by_label("Note", exact=True).fill("Toner sensor E42, check the spare parts.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".entry.comment.internal")).to_contain_text("Toner sensor E42")

    cards = page.get_by_role("region", name="Prepaid cards")
    expect(cards).to_contain_text("2:00")
    page.get_by_label("Minutes").fill("45")
    page.get_by_label("What was done").fill("Replaced the toner sensor")
    page.get_by_label("Billing").select_option("prepaid")
    expect(page.get_by_label("Prepaid card", exact=True)).to_contain_text("2:00 of 2:00 hours left")
    page.get_by_role("button", name="Log time").click()
    expect(page.get_by_role("status")).to_have_text("Time logged.")
    expect(page.locator(".entry.worklog")).to_contain_text("logged 0:45")
    expect(cards.locator("tbody td strong")).to_have_text("1:15")

    page.get_by_label("Status", exact=True).select_option("in_progress")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Ticket saved.")
    facts = page.get_by_role("list", name="Ticket facts")
    expect(facts).to_contain_text("In progress")
    expect(facts).to_contain_text("High")
    expect(page.locator(".entry.event").last).to_contain_text(
        "Status Waiting for customer → In progress"
    )
    page.screenshot(path=screenshots / "ticket.png", full_page=True)

    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        assert (ticket.status, ticket.priority) == ("in_progress", "high")
        kinds = sorted(
            (c.is_internal, c.source)
            for c in session.scalars(select(Comment).where(Comment.ticket_id == ticket.id))
        )
        assert kinds == [(False, "web"), (True, "web")]
        card = session.get(PrepaidCard, made.card_id)
        assert card is not None
        assert card.minutes_remaining == 75
