"""The forms that create things by hand, in Chromium: a ticket from a phone call, customers
and contacts, files, prepaid cards, API tokens and "My account". Each page is checked with
axe-core, refused input comes back as typed, and a double click creates one thing."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import LANGUAGES, Watch, log_in, shot, speak
from tests.integration.ui.mails import PNG
from tests.integration.ui.scenario import printer_ticket
from tests.support import factories

pytestmark = pytest.mark.e2e


def _count(runtime: Runtime, model: type) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_opens_a_ticket_from_a_phone_call(
    page: Page,
    server: str,
    runtime: Runtime,
    agent: str,
    watch: Watch,
    screenshots: Path,
    language: str,
) -> None:
    with runtime.db.transaction() as session:
        acme = factories.customer(session, "Acme A/S")
        other = factories.customer(session, "Other ApS")
        factories.contact(session, "alice@acme.example", customer_id=acme.id)
        factories.contact(session, "bob@other.example", customer_id=other.id)
    words = speak(runtime, agent, language)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets")
    page.get_by_role("link", name=words("New ticket")).click()
    page.wait_for_url(f"{server}/tickets/new")
    assert_accessible(page)
    form = page.locator("#new-ticket-form")
    form.get_by_label(words("Subject")).fill("Printer on floor 3")
    form.get_by_label(words("What the customer asked")).fill("Called at 9:10: blank pages.")
    form.get_by_label(words("Customer"), exact=True).select_option(label="Acme A/S")
    form.get_by_label(words("Contact"), exact=True).select_option(
        label="bob@other.example (Other ApS)"
    )
    form.get_by_label(words("Priority")).select_option(label=words("High"))
    page.screenshot(path=screenshots / shot("ticket-new", language), full_page=True)
    form.get_by_role("button", name=words("Open ticket")).click()
    # Refused: Bob is not Acme's; everything typed is still there, with the reason.
    expect(page.get_by_role("alert")).to_contain_text("contact")
    expect(form.get_by_label(words("Subject"))).to_have_value("Printer on floor 3")
    expect(form.get_by_label(words("What the customer asked"))).to_have_value(
        "Called at 9:10: blank pages."
    )
    expect(form.get_by_label(words("Priority"))).to_have_value("high")
    assert_accessible(page)
    assert _count(runtime, Ticket) == 0
    form.get_by_label(words("Contact"), exact=True).select_option(
        label="alice@acme.example (Acme A/S)"
    )
    form.get_by_role("button", name=words("Open ticket")).dblclick()
    expect(page.get_by_role("heading", name="Printer on floor 3")).to_be_visible()
    assert_accessible(page)
    assert _count(runtime, Ticket) == 1
    assert watch.errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_creates_a_customer_with_domains_and_a_contact(
    page: Page,
    server: str,
    runtime: Runtime,
    admin: str,
    watch: Watch,
    screenshots: Path,
    language: str,
) -> None:
    from hubdesk.customers.models import Contact, Customer

    words = speak(runtime, admin, language)

    log_in(page, server, admin)
    page.goto(f"{server}/customers")
    page.get_by_role("link", name=words("New customer")).click()
    page.wait_for_url(f"{server}/customers/new")
    form = page.locator("#customer-form")
    form.get_by_label(words("Name")).fill("Acme A/S")
    form.get_by_label(words("Mail domains")).fill("acme.example\ngmail.com")
    form.get_by_label(words("Notes")).fill("Key account")
    form.get_by_role("button", name=words("Create customer")).click()
    free_mail = words(
        "{domain} is a free-mail domain shared by many people; add its users as contacts of "
        "the customer instead",
        domain="gmail.com",
    )
    expect(page.get_by_role("alert")).to_contain_text(free_mail)
    expect(form.get_by_label(words("Mail domains"))).to_have_value("acme.example\ngmail.com")
    expect(form.get_by_label(words("Notes"))).to_have_value("Key account")
    page.screenshot(path=screenshots / shot("customer-new-refused", language), full_page=True)
    assert_accessible(page)
    form.get_by_label(words("Mail domains")).fill("acme.example")
    form.get_by_role("button", name=words("Create customer")).dblclick()
    expect(page.get_by_role("heading", name="Acme A/S")).to_be_visible()
    expect(page.get_by_text(f"{words('Mail domains')}: acme.example")).to_be_visible()
    assert _count(runtime, Customer) == 1
    page.get_by_role("link", name=words("New contact")).click()
    contact = page.locator("#contact-form")
    expect(contact.get_by_label(words("Customer"))).to_have_value(page.url.split("=")[-1])
    contact.get_by_label("E-mail").fill("alice@acme.example")
    contact.get_by_label(words("Name")).fill("Alice")
    assert_accessible(page)
    contact.get_by_role("button", name=words("Create contact")).dblclick()
    expect(page.locator("#h-contacts + ul")).to_contain_text("alice@acme.example")
    assert _count(runtime, Contact) == 1
    assert watch.errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_uploads_files_to_a_ticket_and_a_note(
    page: Page,
    server: str,
    runtime: Runtime,
    agent: str,
    watch: Watch,
    screenshots: Path,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
) -> None:
    from hubdesk.tickets import attachments

    made = printer_ticket(runtime)
    words = speak(runtime, agent, language)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    files = page.locator("#files-form")
    files.get_by_label(words("Add files to the ticket")).set_input_files(
        [
            {"name": "call-notes.txt", "mimeType": "text/plain", "buffer": b"called 9:10\n"},
            {"name": "photo.png", "mimeType": "image/png", "buffer": PNG},
        ]
    )
    files.get_by_role("button", name="Upload").dblclick()
    expect(page.get_by_role("status")).to_have_text(words("{count} files added.", count=2))
    panel = page.locator("section[aria-labelledby=h-files]")
    expect(panel.get_by_role("link", name="call-notes.txt")).to_have_count(1)
    with page.expect_download() as download:
        panel.get_by_role("link", name="call-notes.txt").click()
    assert download.value.suggested_filename == "call-notes.txt"
    assert Path(download.value.path()).read_bytes() == b"called 9:10\n"

    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES", 1024)
    note = page.locator("#note-form")
    note.get_by_label("Note").fill("The customer sent the error log.")
    note.get_by_label(words("Files")).set_input_files(
        {"name": "huge.log", "mimeType": "text/plain", "buffer": b"x" * 2048}
    )
    note.get_by_role("button", name=words("Add note")).click()
    expect(page.locator("#note-problems")).to_contain_text(
        "huge.log is larger than the limit of 1 KB a file"
    )
    expect(note.get_by_label("Note")).to_have_value("The customer sent the error log.")
    assert_accessible(page)
    note.get_by_label(words("Files")).set_input_files(
        {"name": "error.log", "mimeType": "text/plain", "buffer": b"E42\n"}
    )
    page.screenshot(path=screenshots / shot("ticket-uploads", language), full_page=True)
    note.get_by_role("button", name=words("Add note")).click()
    entry = page.locator(".entry.comment.internal").filter(has_text="The customer sent")
    expect(entry.get_by_role("link", name="error.log")).to_be_visible()
    assert_accessible(page)
    assert watch.errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_buys_and_cancels_a_prepaid_card(
    page: Page,
    server: str,
    runtime: Runtime,
    admin: str,
    watch: Watch,
    screenshots: Path,
    language: str,
) -> None:
    made = printer_ticket(runtime)
    words = speak(runtime, admin, language)
    log_in(page, server, admin)
    page.goto(f"{server}/customers/{made.customer_id}")
    page.get_by_role("link", name=words("Buy a prepaid card")).click()
    form = page.locator("#card-form")
    form.get_by_label(words("Hours")).fill("10")
    form.get_by_label(words("Price")).fill("")
    form.get_by_label(words("Currency")).fill("DK1")
    form.get_by_label(words("Notes")).fill("Spring deal")
    form.get_by_role("button", name=words("Buy card")).click()
    expect(page.get_by_role("alert")).to_contain_text(
        words("currency must be a three-letter ISO 4217 code such as DKK")
    )
    expect(form.get_by_label(words("Notes"))).to_have_value("Spring deal")
    expect(form.get_by_label(words("Hours"))).to_have_value("10")
    assert_accessible(page)
    form.get_by_label(words("Currency")).fill("EUR")
    form.get_by_role("button", name=words("Buy card")).dblclick()
    expect(page.get_by_role("heading", name=words("Prepaid card #{id}", id=""))).to_be_visible()
    expect(page.locator("#h-balance + dl")).to_contain_text("10:00")
    assert_accessible(page)
    page.screenshot(path=screenshots / shot("prepaid-card", language), full_page=True)
    page.get_by_role("button", name=words("Cancel card")).click()
    expect(page.get_by_role("status")).to_have_text(words("The card was cancelled."))
    expect(page.get_by_role("heading", name=words("Prepaid card #{id}", id=""))).to_contain_text(
        words("Cancelled")
    )
    asked = words("Cancel this prepaid card? Its time can no longer be used.")
    assert f"confirm: {asked}" in watch.dialogs
    page.goto(f"{server}/customers/{made.customer_id}")
    expect(page.locator("#h-cards + .table-wrap tbody tr")).to_have_count(2)
    assert watch.errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_creates_uses_and_revokes_an_api_token(
    page: Page,
    server: str,
    runtime: Runtime,
    agent: str,
    watch: Watch,
    screenshots: Path,
    language: str,
) -> None:
    import httpx

    words = speak(runtime, agent, language)

    log_in(page, server, agent)
    page.get_by_role("link", name="Agnes Agent").click()
    page.get_by_role("link", name=words("API tokens")).click()
    page.wait_for_url(f"{server}/account/tokens")
    form = page.locator("#token-form")
    form.get_by_label(words("Name")).fill("invoicing script")
    form.get_by_label(words("Expires")).fill("2001-01-01")
    form.get_by_role("button", name=words("Create token")).click()
    expect(page.get_by_role("alert")).to_contain_text(words("expires_at must be in the future"))
    expect(form.get_by_label(words("Name"))).to_have_value("invoicing script")
    form.get_by_label(words("Expires")).fill("")
    form.get_by_role("button", name=words("Create token")).dblclick()
    secret = page.get_by_label(words("Your new token")).input_value()
    assert len(secret) > 20
    assert_accessible(page)
    page.screenshot(path=screenshots / shot("api-tokens", language), full_page=True)
    answer = httpx.get(f"{server}/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200
    page.goto(f"{server}/account/tokens")
    rows = page.locator("#tokens tbody tr").filter(has_text="invoicing script")
    expect(rows).to_have_count(1)
    expect(rows).not_to_contain_text(words("Never"))
    rows.get_by_role("button", name=words("Revoke")).click()
    expect(page.get_by_role("status")).to_contain_text(
        words("Token {prefix}… revoked.", prefix="").split("…")[1].strip()
    )
    expect(rows).to_contain_text(words("Revoked"))
    answer = httpx.get(f"{server}/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401
    assert watch.errors == []


def test_my_account_in_danish(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch, screenshots: Path
) -> None:
    log_in(page, server, agent)
    page.goto(f"{server}/account")
    assert_accessible(page)
    profile = page.locator("#profile-form")
    profile.get_by_label("Name").fill("")
    profile.get_by_label("Signature").fill("Agnes\nHubdesk A/S")
    profile.get_by_label("Language").select_option("da")
    profile.get_by_role("button", name="Save").click()
    # The browser's own check keeps the empty name from being sent.
    expect(profile.get_by_label("Signature")).to_have_value("Agnes\nHubdesk A/S")
    profile.get_by_label("Name").fill("Agnes A.")
    profile.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Dine oplysninger er gemt.")
    expect(page.get_by_role("heading", name="Min konto")).to_be_visible()
    notify = page.locator("#notifications-form")
    notify.get_by_label("En sag tildeles mig").uncheck()
    notify.get_by_role("button", name="Gem").click()
    expect(page.get_by_role("status")).to_have_text("Dine valg for mail om hændelser er gemt.")
    expect(notify.get_by_label("En sag tildeles mig")).not_to_be_checked()
    expect(notify.get_by_label("En kunde svarer på min sag")).to_be_checked()
    password = page.locator("#password-form")
    password.get_by_label("Nuværende adgangskode").fill("wrong password")
    password.get_by_label("Ny adgangskode", exact=True).fill("a new long one")
    password.get_by_label("Ny adgangskode igen").fill("a new long one")
    password.get_by_role("button", name="Skift adgangskode").click()
    expect(page.locator("#password-problems")).to_contain_text(
        "Den nuværende adgangskode er forkert."
    )
    assert_accessible(page)
    page.screenshot(path=screenshots / shot("my-account-da", "en"), full_page=True)
    with runtime.db.transaction(write=False) as session:
        from hubdesk.users.models import User

        user = session.scalars(select(User).where(User.email == agent)).one()
        assert (user.name, user.language, user.signature) == (
            "Agnes A.",
            "da",
            "Agnes\nHubdesk A/S",
        )
        assert not user.notify_on_assigned
    assert watch.errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_changes_e_mail_address_through_the_mailed_link(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch, language: str
) -> None:
    import re

    from hubdesk.outbox.models import OutboxMessage
    from hubdesk.users.models import User
    from tests.integration.ui.client import PASSWORD

    words = speak(runtime, agent, language)

    log_in(page, server, agent)
    page.goto(f"{server}/account")
    form = page.locator("#email-form")
    form.get_by_label(words("New address")).fill("agnes@new.example")
    form.get_by_label(words("Current password")).fill(PASSWORD)
    form.get_by_role("button", name=words("Send confirmation link")).click()
    expect(page.get_by_role("status")).to_contain_text(
        words(
            "We mailed a link to {email}. Your address changes when you open it.",
            email="agnes@new.example",
        )
    )
    with runtime.db.transaction(write=False) as session:
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice")).one()
        raw = mail.raw.replace(b"=\r\n", b"").replace(b"=3D", b"=")
    found = re.search(rb"/account/email/confirm\?token=(\S+)", raw)
    assert found
    page.goto(f"{server}/account/email/confirm?token={found.group(1).decode()}")
    assert_accessible(page)
    page.get_by_role("button", name=words("Use {new}", new="agnes@new.example")).click()
    expect(page.get_by_role("status")).to_have_text(
        words("Your e-mail address is now {email}.", email="agnes@new.example")
    )
    with runtime.db.transaction(write=False) as session:
        emails = session.scalars(select(User.email)).all()
        assert "agnes@new.example" in emails
        assert agent not in emails
    assert watch.errors == []
