"""Snooze and split in Chromium: the side panel's snooze control hides the ticket from the
open list (and refuses a moment in the past), the timeline's split button moves a reply to a
new ticket (and a page older than the ticket splits nothing); English and Danish, axe-clean."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.automation.split import split_messages
from hubdesk.db.types import utcnow
from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import EmailLog, Ticket
from hubdesk.users.permissions import SYSTEM
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.mails import message

pytestmark = pytest.mark.e2e


def _ticket_with_replies(runtime: Runtime) -> int:
    """A ticket from Alice's mail, then two replies on other matters."""
    first = ingest(
        runtime, message(subject="Printer", message_id="<p1@acme.example>"), source="test"
    )
    assert first.ticket_id is not None
    for n, text in ((2, "Also the VPN is down."), (3, "And the coffee machine leaks.")):
        raw = message(
            subject="Re: Printer",
            text=text,
            message_id=f"<p{n}@acme.example>",
            headers={"In-Reply-To": "<p1@acme.example>"},
        )
        assert ingest(runtime, raw, source="test").ticket_id == first.ticket_id
    return first.ticket_id


def test_split_a_reply_off_and_a_stale_page_splits_nothing(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch
) -> None:
    ticket_id = _ticket_with_replies(runtime)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{ticket_id}")
    split_buttons = page.get_by_role("button", name="Split off into a new ticket")
    expect(split_buttons).to_have_count(2)  # the replies, not the mail that opened it
    assert_accessible(page)
    # A colleague splits the coffee mail off meanwhile: this page is now older than the ticket.
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        coffee = session.scalars(
            select(EmailLog.id).where(EmailLog.email_message_id == "<p3@acme.example>")
        ).one()
        split_messages(session, SYSTEM, ticket, [coffee], tz=runtime.settings.tz, now=utcnow())
    vpn = page.locator(".entry.mail").filter(has_text="Also the VPN is down.")
    vpn.get_by_role("button", name="Split off into a new ticket").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.goto(f"{server}/tickets/{ticket_id}")
    expect(page.locator(".entry.mail").filter(has_text="Also the VPN is down.")).to_be_visible()
    # Now from the fresh page: the new ticket shows the mail and names the source.
    vpn = page.locator(".entry.mail").filter(has_text="Also the VPN is down.")
    vpn.get_by_role("button", name="Split off into a new ticket").click()
    expect(page.get_by_role("status")).to_contain_text("was split off")
    expect(page.locator(".entry.mail").filter(has_text="Also the VPN is down.")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{server}/tickets/{ticket_id}")
    expect(page.locator(".entry.mail").filter(has_text="Also the VPN is down.")).to_have_count(0)
    assert watch.errors == []


def test_snooze_from_the_side_panel_in_english_and_danish(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch
) -> None:
    ticket_id = _ticket_with_replies(runtime)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{ticket_id}")
    until = page.get_by_label("Snooze until")
    past = (utcnow() - timedelta(days=2)).astimezone(runtime.settings.tz)
    until.fill(past.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Snooze", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("must be in the future")
    later = (utcnow() + timedelta(days=2)).astimezone(runtime.settings.tz)
    page.get_by_label("Snooze until").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Snooze", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Snoozed until {later.strftime('%Y-%m-%d %H:%M')}"
    )
    expect(page.locator(".snoozed")).to_be_visible()
    assert_accessible(page)
    page.goto(f"{server}/tickets")
    expect(page.locator(f"a[href='/tickets/{ticket_id}']")).to_have_count(0)
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    expect(page.locator(".flash")).to_have_text("Sproget er skiftet.")
    page.goto(f"{server}/tickets/{ticket_id}")
    expect(page.get_by_role("button", name="Afslut udsættelse")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Afslut udsættelse").click()
    expect(page.locator(".flash")).to_have_text("Udsættelsen er afsluttet.")
    page.goto(f"{server}/tickets")
    expect(page.locator(f"a[href='/tickets/{ticket_id}']").first).to_be_visible()
    assert watch.errors == []
