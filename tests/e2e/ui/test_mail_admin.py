"""The mail pages in a real browser: an admin corrects a workflow and retries its failed run;
an agent releases spam from triage. Screenshots of the new pages are saved on the way."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.inbound.models import InboundMessage
from hubdesk.mailboxes import service as mailboxes
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.scenario import failing_workflow, spam_mail

pytestmark = pytest.mark.e2e

MISTAKE = (
    '[{"action": "create_ticket", "params": {}},\n'
    ' {"action": "set_priority", "params": {"priority": "urgent"}}]'
)


def test_admin_fixes_a_workflow_and_retries_its_failed_run(
    page: Page, server: str, runtime: Runtime, admin: str, screenshots: Path, watch: Watch
) -> None:
    """The workflows page warns nothing yet lists the workflow; its steps are changed with a
    mistake, which comes back next to the form with the step's index, action and fix and the
    text as typed; corrected, it saves. On the runs page the failed run is retried and
    completes: the mail that waited in triage becomes a high-priority ticket."""
    _workflow_id, inbound_id = failing_workflow(runtime)
    with runtime.db.transaction() as session:
        mailboxes.create_mailbox(
            session,
            SYSTEM,
            name="support",
            addresses=["support@support.example.com"],
            imap_url="imaps://support@imap.example.com/INBOX",
            password_env="SUPPORT_IMAP_PASSWORD",
        )
    log_in(page, server, admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    expect(page.get_by_role("cell", name="support_request")).to_be_visible()
    page.screenshot(path=screenshots / "workflows.png", full_page=True)
    page.get_by_role("link", name="Link to the future").click()

    steps = page.get_by_label("Steps (JSON)")
    steps.fill(MISTAKE)
    page.get_by_role("button", name="Save workflow").click()
    problems = page.get_by_role("alert")
    expect(problems).to_contain_text("This was not saved:")
    expect(problems).to_contain_text("step 1 (set_priority): parameter priority")
    expect(problems).to_contain_text("(got 'urgent')")
    expect(steps).to_have_value(MISTAKE)
    expect(steps).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("complementary", name="Actions")).to_contain_text("set_priority")
    page.screenshot(path=screenshots / "workflow-refused.png", full_page=True)

    steps.fill(MISTAKE.replace("urgent", "high"))
    page.get_by_role("button", name="Save workflow").click()
    expect(page.get_by_role("status")).to_have_text("Workflow Link to the future saved.")

    page.get_by_role("link", name="Runs").click()
    run = page.locator(".entry.run").first
    expect(run).to_contain_text("does not exist")
    expect(run.get_by_role("link", name="The scanner needs help")).to_be_visible()
    page.screenshot(path=screenshots / "workflow-runs.png", full_page=True)
    run.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status").first).to_have_text("Retried: the new run completed.")
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        assert row.queue is None
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.priority == "high"

    for path, name in (
        (f"/admin/inbound/{inbound_id}", "inbound-classification.png"),
        ("/admin/outbox", "outbox.png"),
        ("/admin/templates", "templates.png"),
        ("/admin/mailboxes", "mailboxes.png"),
    ):
        page.goto(server + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.screenshot(path=screenshots / name, full_page=True)
    assert watch.errors == []
    assert watch.csp_violations == []


def test_agent_releases_spam_from_triage(
    page: Page, server: str, runtime: Runtime, agent: str, screenshots: Path, watch: Watch
) -> None:
    """The dashboard counts the mail held as spam; on triage's spam tab the agent sees who
    sent it, why it is held and its class, and releasing it opens its ticket."""
    spam_mail(runtime, subject="Invoice <overdue>")
    log_in(page, server, agent)
    held = page.get_by_role("region", name="Held as spam")
    expect(held).to_contain_text("1 mail is held as spam.")
    held.get_by_role("link", name="Held as spam").click()
    item = page.locator(".entry.held").filter(has_text="Invoice <overdue>")
    expect(item).to_contain_text("seller@spam.example")
    expect(item).to_contain_text("spam:")
    expect(item.get_by_label("Add to ticket number")).to_be_visible()
    page.screenshot(path=screenshots / "triage-spam.png", full_page=True)

    item.get_by_role("button", name="Release and open a ticket").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("was opened from the mail.")
    expect(page.get_by_text("Nothing is waiting here.")).to_be_visible()
    page.get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_role("link", name="Invoice <overdue>").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invoice <overdue>")
    assert watch.errors == []
    assert watch.dialogs == []
