"""Quarantine is not a dead end, in a real browser: the decoded headers (never the mail's
HTML), dismiss (kept, hidden, shown again with "Show dismissed mail", restored), a ticket
made by hand (the sender entered when the mail had none; a double click makes one ticket),
and the dashboard's count; in Danish too."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import LANGUAGES, Watch, assert_no_english, log_in, pwned, shot, speak
from tests.integration.test_quarantine import NO_SENDER, quarantined

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", LANGUAGES)
def test_quarantined_mail_dismissed_restored_and_made_a_ticket(
    page: Page,
    server: str,
    runtime: Runtime,
    admin: str,
    screenshots: Path,
    watch: Watch,
    language: str,
) -> None:
    inbound_id = quarantined(runtime)
    words = speak(runtime, admin, language)
    log_in(page, server, admin)
    block = page.get_by_role("region", name=words("Quarantined mail"))
    expect(block).to_contain_text(words("{count} quarantined mail needs a decision.", count=1))
    assert_accessible(page)
    block.get_by_role("link", name=words("Quarantined mail"), exact=True).click()
    ledger = page.get_by_role("region", name=words("Quarantined"))
    expect(ledger).to_contain_text("message_size")
    ledger.locator("tbody tr").first.get_by_role("link").first.click()
    expect(page).to_have_url(f"{server}/admin/inbound/{inbound_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kære support, hjælp")
    headers = page.get_by_role("region", name=words("Headers"))
    expect(headers.locator("tr", has_text="Subject")).to_contain_text("Kære support, hjælp")
    assert pwned(page) == [None]
    assert_no_english(page, words)
    assert_accessible(page)
    page.screenshot(path=screenshots / shot("quarantine", language), full_page=True)

    page.get_by_label(words("Why dismiss it (optional)")).fill("a test")
    page.get_by_role("button", name=words("Dismiss (keep the mail, hide it)")).click()
    expect(page.get_by_role("status").first).to_have_text(words("The mail was dismissed."))
    expect(page.get_by_role("region", name=words("Quarantined"))).to_contain_text(
        words("Nothing here.")
    )
    page.get_by_role("link", name=words("Show dismissed mail")).click()
    dismissed = page.get_by_role("region", name=words("Dismissed"))
    expect(dismissed.locator("tbody tr")).to_have_count(1)
    dismissed.locator("tbody tr").first.get_by_role("link").first.click()
    page.get_by_role("button", name=words("Restore to Needs attention")).click()
    expect(page.get_by_role("status").first).to_have_text(
        words("The mail is back under Needs attention.")
    )

    # The mail has no sender: making a ticket asks for one and keeps what was typed.
    page.get_by_label(words("Sender")).fill("")
    page.get_by_role("button", name=words("Make a ticket of this mail")).click()
    expect(page.get_by_role("alert").first).to_contain_text(
        words("The mail has no sender: enter the customer's e-mail address.")
    )
    page.get_by_label(words("Sender")).fill("not an address")
    page.locator("#manual-ticket-form").evaluate("form => form.noValidate = true")
    page.get_by_role("button", name=words("Make a ticket of this mail")).click()
    expect(page.get_by_role("alert").first).to_contain_text(
        words("Enter a valid e-mail address for the sender.")
    )
    expect(page.get_by_label(words("Sender"))).to_have_value("not an address")
    page.get_by_label(words("Sender")).fill("kunde@example.com")
    page.get_by_role("button", name=words("Make a ticket of this mail")).dblclick()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kære support, hjælp")
    with runtime.db.transaction(write=False) as session:
        assert len(session.scalars(select(Ticket)).all()) == 1
    page.goto(f"{server}/")
    expect(page.get_by_role("region", name=words("Quarantined mail"))).to_contain_text(
        words("No quarantined mail is waiting.")
    )
    for n in (2, 3):
        quarantined(runtime, NO_SENDER.replace(b"nosender@", f"mail{n}@".encode()))
    page.locator("#top-language").select_option("da")
    page.get_by_role("button", name=words("Change")).click()
    expect(page.get_by_role("region", name="Mail i karantæne")).to_contain_text(
        "2 mails i karantæne venter på en beslutning."
    )
    assert watch.errors == []
