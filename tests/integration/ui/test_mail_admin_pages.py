"""Outgoing mail, mail templates, mailboxes and reclassifying inbound mail (HTTP level), and
who may reach the admin pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hubdesk.classifier.models import Classification
from hubdesk.db.types import utcnow
from hubdesk.mailboxes.models import Mailbox
from hubdesk.outbox.models import AddressFlag, MailTemplate, OutboxMessage
from hubdesk.runtime import Runtime
from tests.integration.ui.client import UiClient, flash_of, text_of
from tests.integration.ui.scenario import mail_world, printer_ticket

SECRET = "pw-Zq7!never-shown"


def _outbox_status(runtime: Runtime, outbox_id: int) -> tuple[str, str]:
    with runtime.db.transaction(write=False) as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        return row.status, row.reason


def test_outgoing_mail_is_retried_and_a_cleared_address_releases_held_mail(
    ui: UiClient, runtime: Runtime
) -> None:
    """The outbox lists each message with its recipients, ticket, attempts and reason, and a
    status filter; the bouncing address is listed, and clearing it releases the mail held
    for it. A failed message is queued again by Retry; a pending one is refused with the
    service's reason."""
    made = printer_ticket(runtime)
    world = mail_world(runtime, made)
    ui.log_in_as(["agents"])
    page = ui.get("/admin/outbox").text
    row = page[page.index(f'id="outbox-{world.outbox_id}"') :]
    assert "alice@acme.example" in row
    assert f'href="/tickets/{made.ticket_id}">{made.ticket_number}</a>' in row
    assert "held: mail to alice@acme.example bounced before" in row
    assert f'action="/admin/outbox/{world.outbox_id}/retry"' in row
    assert "No mail server is set up (SMTP_HOST)" in page
    assert f'id="outbox-{world.outbox_id}"' in ui.get("/admin/outbox?status=held").text
    assert f'id="outbox-{world.outbox_id}"' not in ui.get("/admin/outbox?status=sent").text
    assert '<input type="hidden" name="email" value="alice@acme.example">' in page

    cleared = ui.post("/admin/outbox/flags/clear", {"email": "Alice@acme.example"})
    assert flash_of(runtime, cleared).text == (
        "alice@acme.example is no longer flagged; 1 held message was released."
    )
    assert _outbox_status(runtime, world.outbox_id) == ("pending", "address cleared")
    assert "No address is bouncing." in ui.get("/admin/outbox").text
    again = ui.post("/admin/outbox/flags/clear", {"email": "alice@acme.example"})
    assert again.status_code == 404

    refused = ui.post(f"/admin/outbox/{world.outbox_id}/retry", {})
    assert flash_of(runtime, refused).kind == "error"
    assert "only failed or held messages are retried" in flash_of(runtime, refused).text
    with runtime.db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == world.outbox_id)
            .values(status="failed", attempts=3, last_error="550 5.1.1 <no such user>")
        )
    failed_page = ui.get("/admin/outbox?status=failed").text
    assert "550 5.1.1 &lt;no such user&gt;" in failed_page
    retried = ui.post(f"/admin/outbox/{world.outbox_id}/retry", {})
    assert flash_of(runtime, retried).text == "The mail to alice@acme.example is queued again."
    assert _outbox_status(runtime, world.outbox_id) == ("pending", "retry requested")
    ticket_page = ui.get(f"/tickets/{made.ticket_id}").text
    assert 'class="badge outbox-pending">Waiting to be sent<' in ticket_page


def test_templates_allow_only_the_ticket_number(ui: UiClient, runtime: Runtime) -> None:
    """The auto-reply is edited in Danish and English with the placeholder rule explained; a
    template naming another placeholder comes back (422) with the reason and the text as
    entered, and nothing changes; a good one is saved."""
    ui.log_in_as(["admins"])
    page = ui.get("/admin/templates").text
    assert "Vi har modtaget din henvendelse" in page
    assert "We have received your request" in page
    assert "The only placeholder is {ticket_number}" in text_of(page)
    bad_body = "Hello {customer_name}, your case is {ticket_number}. <b>Thanks</b>"
    refused = ui.post(
        "/admin/templates/auto_reply/en", {"subject": "[{ticket_number}] Hi", "body": bad_body}
    )
    assert refused.status_code == 422
    text = text_of(refused.text)
    assert "body: templates may use only {ticket_number}; found customer_name" in text
    assert "Hello {customer_name}, your case is {ticket_number}. &lt;b&gt;Thanks" in refused.text
    assert 'id="tpl-problems-en"' in refused.text
    assert 'id="tpl-problems-da"' not in refused.text
    formatted = ui.post(
        "/admin/templates/auto_reply/da", {"subject": "{ticket_number!r}", "body": "Tak."}
    )
    assert "exactly as {ticket_number}" in text_of(formatted.text)
    with runtime.db.transaction(write=False) as session:
        english = session.get(MailTemplate, ("auto_reply", "en"))
        assert english is not None
        assert "customer_name" not in english.body

    saved = ui.post(
        "/admin/templates/auto_reply/da",
        {"subject": "[{ticket_number}] Modtaget", "body": "Din sag er {ticket_number}."},
    )
    assert flash_of(runtime, saved).text == "Template saved (Danish)."
    with runtime.db.transaction(write=False) as session:
        danish = session.get(MailTemplate, ("auto_reply", "da"))
        assert danish is not None
        assert (danish.subject, danish.body) == (
            "[{ticket_number}] Modtaget",
            "Din sag er {ticket_number}.",
        )
    assert ui.post("/admin/templates/auto_reply/fr", {"subject": "x", "body": "y"}).status_code == (
        404
    )


def test_mailboxes_are_created_changed_and_removed_without_showing_a_password(
    ui: UiClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mailbox is created with its addresses, IMAP URL, password variable and folder
    actions; a refused form comes back with the reason and without anything that may be a
    password; the list shows the state, the server's last error (escaped) and whether the
    password variable is set; it is changed and removed. No page ever shows the password."""
    monkeypatch.setenv("SUPPORT_IMAP_PASSWORD", SECRET)
    ui.log_in_as(["admins"])
    pages: list[str] = [ui.get("/admin/mailboxes/new").text]
    form = {
        "name": "support",
        "addresses": "Support@Example.com\nhelp@example.com",
        "enabled": "1",
        "imap_url": f"imaps://support:{SECRET}@imap.example.com/INBOX",
        "password_env": "SUPPORT_IMAP_PASSWORD",
        "processed_action": "move",
        "processed_folder": "",
        "oversized_action": "leave",
        "oversized_folder": "",
    }
    with_password = ui.post("/admin/mailboxes", form)
    assert with_password.status_code == 422
    assert "imap_url must not contain a password" in with_password.text
    assert 'value="support"' in with_password.text
    pages.append(with_password.text)
    pasted = ui.post(
        "/admin/mailboxes",
        {**form, "imap_url": "imaps://support@imap.example.com/INBOX", "password_env": SECRET},
    )
    assert pasted.status_code == 422
    assert "password_env must name a variable" in pasted.text
    assert 'value="imaps://support@imap.example.com/INBOX"' in pasted.text
    pages.append(pasted.text)
    no_folder = ui.post(
        "/admin/mailboxes", {**form, "imap_url": "imaps://support@imap.example.com/INBOX"}
    )
    assert "processed_action &#39;move&#39; needs processed_folder" in no_folder.text
    pages.append(no_folder.text)
    with runtime.db.transaction(write=False) as session:
        assert session.scalars(select(Mailbox)).all() == []

    created = ui.post(
        "/admin/mailboxes",
        {
            **form,
            "imap_url": "imaps://support@imap.example.com/INBOX",
            "processed_folder": "Done",
        },
    )
    assert flash_of(runtime, created).text == "Mailbox support saved."
    with runtime.db.transaction() as session:
        mailbox = session.scalars(select(Mailbox)).one()
        mailbox_id = mailbox.id
        assert mailbox.addresses == ["help@example.com", "support@example.com"]
        assert (mailbox.processed_action, mailbox.processed_folder) == ("move", "Done")
        mailbox.state, mailbox.last_error = "error", "AUTHENTICATIONFAILED <b>Invalid</b>"
        mailbox.last_error_at = utcnow()
    listing = ui.get("/admin/mailboxes").text
    pages.append(listing)
    assert "AUTHENTICATIONFAILED &lt;b&gt;Invalid&lt;/b&gt;" in listing
    assert 'class="badge mailbox-error">Error<' in listing
    assert "help@example.com, support@example.com" in listing
    dashboard = ui.get("/").text
    pages.append(dashboard)
    assert "Mailbox support has an error:" in dashboard
    edit = ui.get(f"/admin/mailboxes/{mailbox_id}").text
    pages.append(edit)
    assert "Found in SUPPORT_IMAP_PASSWORD on this server." in edit

    changed = ui.post(
        f"/admin/mailboxes/{mailbox_id}",
        {
            **form,
            "addresses": "help@example.com",
            "enabled": "",
            "imap_url": "",
            "password_env": "",
            "processed_action": "seen",
        },
    )
    assert flash_of(runtime, changed).text == "Mailbox support saved."
    with runtime.db.transaction(write=False) as session:
        mailbox = session.scalars(select(Mailbox)).one()
        assert (mailbox.enabled, mailbox.state, mailbox.imap_url, mailbox.addresses) == (
            False,
            "disabled",
            None,
            ["help@example.com"],
        )
    listing = ui.get("/admin/mailboxes").text
    pages.append(listing)
    assert 'class="badge mailbox-disabled">Disabled<' in listing
    assert "None (mail is delivered to hubdesk)" in listing
    clash = ui.post(f"/admin/mailboxes/{mailbox_id}", {**form, "password_env": "x y"})
    pages.append(clash.text)
    assert clash.status_code == 422

    removed = ui.post(f"/admin/mailboxes/{mailbox_id}/delete", {})
    assert flash_of(runtime, removed).text == "Mailbox support removed."
    pages.append(ui.get("/admin/mailboxes").text)
    with runtime.db.transaction(write=False) as session:
        assert session.scalars(select(Mailbox)).all() == []
    assert [p for p in pages if SECRET in p or "never-shown" in p] == []


def test_an_admin_reclassifies_an_inbound_mail(ui: UiClient, runtime: Runtime) -> None:
    """The inbound page shows the classification history, the class and the queue with a
    link to triage, and a form with the known classes; a new label is stored as an agent's
    label, a malformed one comes back with the reason."""
    made = printer_ticket(runtime)
    world = mail_world(runtime, made)
    ui.log_in_as(["admins"])
    page = ui.get(f"/admin/inbound/{world.triage_id}").text
    text = text_of(page)
    assert "Queue triage · Open triage" in text
    assert "support_request" in text
    assert "Rules" in text
    assert '<option value="invoice"></option>' in page
    assert f'href="/admin/workflow-executions?status=&amp;inbound_id={world.triage_id}"' in page
    spam_page = text_of(ui.get(f"/admin/inbound/{world.spam_id}").text)
    assert "Held as spam · Open triage" in spam_page

    saved = ui.post(
        f"/admin/inbound/{world.triage_id}/classification",
        {"label": "invoice", "note": "it is about a bill"},
    )
    assert flash_of(runtime, saved).text == "The mail is now classified as invoice."
    bad = ui.post(f"/admin/inbound/{world.triage_id}/classification", {"label": "no good!"})
    assert flash_of(runtime, bad).kind == "error"
    assert "label must be 1 to 64 letters" in flash_of(runtime, bad).text
    with runtime.db.transaction(write=False) as session:
        agent = session.scalars(
            select(Classification).where(Classification.source == "agent")
        ).one()
        assert (agent.inbound_id, agent.label, agent.note) == (
            world.triage_id,
            "invoice",
            "it is about a bill",
        )
    history = text_of(ui.get(f"/admin/inbound/{world.triage_id}").text)
    assert "invoice 1.00 Agent agent:" in history
    assert "it is about a bill" in history


ADMIN_PAGES = (
    "/admin/workflows",
    "/admin/workflows/new",
    "/admin/workflow-executions",
    "/admin/templates",
    "/admin/mailboxes",
    "/admin/mailboxes/new",
    "/admin/users",
    "/admin/inbound",
)


def test_agents_cannot_reach_the_admin_pages_and_readonly_cannot_send(
    ui: UiClient, runtime: Runtime
) -> None:
    """Agents get 403 on every admin page and admin form (the outgoing mail list is theirs,
    as in the API: they send replies) and see no admin links; read-only users cannot reach
    outgoing mail, reply or comment."""
    made = printer_ticket(runtime)
    world = mail_world(runtime, made)
    ui.log_in_as(["agents"])
    for path in (*ADMIN_PAGES, f"/admin/workflows/{world.workflow_id}"):
        response = ui.get(path)
        assert response.status_code == 403, path
        assert "Not allowed" in response.text
    for path in (
        "/admin/workflows",
        f"/admin/workflows/{world.workflow_id}",
        f"/admin/workflows/{world.workflow_id}/delete",
        f"/admin/workflow-executions/{world.execution_id}/retry",
        "/admin/mailboxes",
        f"/admin/mailboxes/{world.mailbox_id}/delete",
        "/admin/templates/auto_reply/en",
        f"/admin/inbound/{world.triage_id}/classification",
    ):
        assert ui.post(path, {"name": "x", "label": "spam"}).status_code == 403, path
    nav = ui.get("/").text
    for link in ("/admin/workflows", "/admin/mailboxes", "/admin/users", "/admin/inbound"):
        assert f'href="{link}"' not in nav
    assert 'href="/admin/outbox"' in nav
    assert 'href="/admin/templates"' not in ui.get("/admin/outbox").text

    ui.forget_cookies()
    ui.log_in_as(["readonly"])
    assert ui.get("/admin/outbox").status_code == 403
    base = f"/tickets/{made.ticket_id}"
    assert ui.post(f"{base}/reply", {"body": "hi"}).status_code == 403
    assert ui.post(f"{base}/comment", {"body": "hi"}).status_code == 403
    assert ui.post("/admin/outbox/flags/clear", {"email": "alice@acme.example"}).status_code == (
        403
    )
    with runtime.db.transaction(write=False) as session:
        flag = session.get(AddressFlag, "alice@acme.example")
        assert flag is not None
        assert flag.bouncing
        assert session.get(Mailbox, world.mailbox_id) is not None


def test_the_mailbox_form_offers_the_backlog_until_the_first_poll(
    ui: UiClient, runtime: Runtime
) -> None:
    """The new-mailbox form has the "import the mail already in the folder" checkbox, off by
    default; ticked, the mailbox imports the backlog. Once the account has been polled the
    edit form no longer offers it, and saving the form leaves the choice as it was."""
    ui.log_in_as(["admins"])
    new = ui.get("/admin/mailboxes/new").text
    assert 'name="import_existing"' in new
    assert "Also import the mail already in the folder" in new
    form = {
        "name": "support",
        "addresses": "support@example.com",
        "enabled": "1",
        "imap_url": "imaps://support@imap.example.com/INBOX",
        "password_env": "SUPPORT_IMAP_PASSWORD",
        "processed_action": "seen",
        "oversized_action": "leave",
    }
    ui.post("/admin/mailboxes", form)
    archive_form = {**form, "name": "archive", "addresses": "a@example.com"}
    ui.post("/admin/mailboxes", {**archive_form, "import_existing": "1"})
    with runtime.db.transaction() as session:
        rows = {m.name: m for m in session.scalars(select(Mailbox))}
        assert rows["support"].import_from is not None
        assert rows["archive"].import_from is None
        support_id = rows["support"].id
        rows["archive"].uidvalidity, rows["archive"].last_uid = 9, 1  # polled
        archive_id = rows["archive"].id
    assert 'name="import_existing"' in ui.get(f"/admin/mailboxes/{support_id}").text
    polled = ui.get(f"/admin/mailboxes/{archive_id}").text
    assert 'name="import_existing"' not in polled
    saved = ui.post(f"/admin/mailboxes/{archive_id}", archive_form)
    assert flash_of(runtime, saved).text == "Mailbox archive saved."
    with runtime.db.transaction(write=False) as session:
        archive = session.get(Mailbox, archive_id)
        assert archive is not None
        assert archive.import_from is None


def test_a_stale_mailbox_shows_on_the_dashboard_for_admins(ui: UiClient, runtime: Runtime) -> None:
    """A mailbox not polled successfully for over HUBDESK_MAILBOX_STALE_MINUTES (30) shows on
    an admin's dashboard with a link to it, not only in the log; a freshly polled one and an
    agent's dashboard show nothing."""
    now = utcnow()
    with runtime.db.transaction() as session:
        for name, last in (("stuck", now - timedelta(hours=2)), ("fresh", now)):
            session.add(
                Mailbox(
                    name=name,
                    imap_url=f"imaps://{name}@imap.example.com/INBOX",
                    password_env="X_PASSWORD",
                    state="ok",
                    last_success_at=last,
                )
            )
    ui.log_in_as(["admins"])
    page = ui.get("/").text
    assert "Mailbox stuck has not been polled successfully for over 30 minutes" in page
    assert "Is the worker running?" in page
    assert "Mailbox fresh" not in page
    ui.forget_cookies()
    ui.log_in_as(["agents"])
    assert "has not been polled successfully" not in ui.get("/").text
