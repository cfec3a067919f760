"""The admin's inbound ledger in a real browser: quarantined mail, its raw bytes, reprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from tests.e2e.ui.conftest import log_in
from tests.integration.ui.mails import message

pytestmark = pytest.mark.e2e


def test_admin_reprocesses_a_quarantined_mail(
    page: Page, server: str, runtime: Runtime, admin: str, screenshots: Path
) -> None:
    """A mail quarantined under a small size limit shows in "Needs attention" with its reason
    and raw text; after the limit was raised, "Process again" turns it into a ticket."""
    strict = Runtime.build(runtime.settings.model_copy(update={"mail_max_message_bytes": 1024}))
    try:
        raw = message(subject="Big report attached", text="Report:\n" + "x" * 3000)
        outcome = ingest(strict, raw, source="test")
    finally:
        strict.close()
    assert outcome.status == "quarantined"

    log_in(page, server, admin)
    page.get_by_role("link", name="Inbound mail").click()
    quarantined = page.get_by_role("region", name="Quarantined")
    expect(quarantined).to_contain_text("message_size")
    page.screenshot(path=screenshots / "inbound.png", full_page=True)
    quarantined.locator("tbody tr").first.get_by_role("link").first.click()

    expect(page.locator("pre.raw")).to_contain_text("Subject: Big report attached")
    expect(page.get_by_role("link", name="Download the raw message")).to_be_visible()
    page.get_by_role("button", name="Process again").click()
    expect(page.get_by_role("status")).to_contain_text("Processed again: a new ticket.")
    page.get_by_role("link", name="TKT-").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Big report attached")
