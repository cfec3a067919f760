"""The dashboard's "held as spam" block in a real browser: the count, the newest held mails,
and a one-click release that opens exactly one ticket, also under a double click and from a
stale page; in English and Danish, with no axe-core violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from hubdesk.audit.models import AuditEntry
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.scenario import spam_mail

pytestmark = pytest.mark.e2e


def _tickets(runtime: Runtime, subject: str) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).where(Ticket.subject == subject)) or 0


def _releases(runtime: Runtime, inbound_id: int) -> int:
    with runtime.db.transaction() as session:
        return (
            session.scalar(
                select(func.count()).where(
                    AuditEntry.entity_type == "inbound_message",
                    AuditEntry.entity_id == inbound_id,
                    AuditEntry.action == "triage_create_ticket",
                )
            )
            or 0
        )


def test_agent_releases_held_spam_from_the_dashboard_once(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch
) -> None:
    spam_mail(runtime, subject="Cheap watches")
    released_id = spam_mail(runtime, subject="Invoice <overdue>")
    log_in(page, server, agent)
    block = page.get_by_role("region", name="Held as spam")
    expect(block).to_contain_text("2 mails are held as spam.")
    expect(block.get_by_role("link", name="Held as spam")).to_have_attribute(
        "href", "/triage?kind=spam"
    )
    assert_accessible(page)
    stale = page.context.new_page()
    stale.goto(server + "/")

    item = block.get_by_role("listitem").filter(has_text="Invoice <overdue>")
    expect(item).to_contain_text("seller@spam.example")
    item.get_by_role("button", name="Release").dblclick()
    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"Ticket TKT-\S+ was opened from the mail\.|This mail was already handled\.")
    )
    expect(block).to_contain_text("1 mail is held as spam.")
    expect(block.get_by_role("listitem").filter(has_text="Invoice <overdue>")).to_have_count(0)
    assert _tickets(runtime, "Invoice <overdue>") == 1
    assert _releases(runtime, released_id) == 1

    # The stale page still offers the released mail: releasing it again changes nothing.
    stale_item = stale.get_by_role("region", name="Held as spam").get_by_role("listitem")
    stale_item.filter(has_text="Invoice <overdue>").get_by_role("button", name="Release").click()
    expect(stale.get_by_role("status")).to_have_text("This mail was already handled.")
    assert _tickets(runtime, "Invoice <overdue>") == 1
    assert _releases(runtime, released_id) == 1
    assert _tickets(runtime, "Cheap watches") == 0
    assert watch.errors == []


def test_held_spam_block_in_danish(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch
) -> None:
    spam_mail(runtime, subject="Billige ure")
    log_in(page, server, agent)
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("status")).to_have_text("Sproget er skiftet.")
    page.goto(server + "/")
    block = page.get_by_role("region", name="Holdt tilbage som spam")
    expect(block).to_contain_text("1 mail er holdt tilbage som spam.")
    assert_accessible(page)
    block.get_by_role("button", name="Frigiv").click()
    expect(page.get_by_role("status")).to_contain_text("er oprettet ud fra mailen")
    expect(block).to_contain_text("0 mails er holdt tilbage som spam.")
    assert _tickets(runtime, "Billige ure") == 1
    assert watch.errors == []
