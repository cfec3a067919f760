"""Replying and assigning in Chromium, through the real outbox: a refused reply comes back
with everything the agent typed and chose (text from a canned response, Cc, ticked file,
status) and what to fix; a status a colleague changed meanwhile is a 409 page that keeps the
text; a double click on Send sends one mail; the signature set on My account is in the mail
the SMTP server receives (a real aiosmtpd sink on loopback, sent by the outbox sender); and
assigning on the ticket page or in bulk notifies the new assignee once per ticket."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from hubdesk.canned import service as canned
from hubdesk.config import Settings
from hubdesk.intake.pipeline import ingest
from hubdesk.outbox.models import OutboxMessage
from hubdesk.outbox.sender import send_due
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import SYSTEM
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import LANGUAGES, Watch, assert_no_english, log_in, speak
from tests.integration.ui.client import make_user
from tests.integration.ui.mails import message
from tests.integration.ui.scenario import printer_ticket
from tests.support import api as support_api
from tests.support.databases import Templates
from tests.support.smtp_sink import SinkHandler, smtp_sink

pytestmark = pytest.mark.e2e


@pytest.fixture
def sink() -> Iterator[tuple[int, SinkHandler]]:
    with smtp_sink() as found:
        yield found


@pytest.fixture
def settings(templates: Templates, tmp_path: Path, sink: tuple[int, SinkHandler]) -> Settings:
    """Outgoing mail goes to the sink (sent only when the test runs the sender)."""
    return Settings(
        database_url=templates.sqlite_copy(tmp_path / "hubdesk.db"),
        data_dir=tmp_path / "data",
        secret_key="browser-test-key-" + "x" * 32,
        mail_domain="support.example.com",
        smtp_host="127.0.0.1",
        smtp_port=sink[0],
        smtp_security="none",
        _env_file=None,  # type: ignore[call-arg]
    )


def _outbox_count(runtime: Runtime) -> int:
    """Agent replies queued (the ticket's mail also got an auto-reply)."""
    with runtime.db.transaction(write=False) as session:
        query = select(func.count()).where(OutboxMessage.kind == "agent_reply")
        return int(session.scalar(query) or 0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refused_reply_keeps_what_was_typed_and_a_double_click_sends_once(
    page: Page,
    server: str,
    runtime: Runtime,
    agent: str,
    watch: Watch,
    screenshots: Path,
    language: str,
) -> None:
    made = printer_ticket(runtime)
    with runtime.db.transaction() as session:
        canned.create_response(
            session,
            SYSTEM,
            title="Toner",
            body="Hello {{contact.first_name}}, toner is on its way.",
            shared=True,
        )
    words = speak(runtime, agent, language)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    composer = page.get_by_role("region", name=words("Reply to the customer"))
    composer.get_by_label(words("Canned response")).select_option(
        label=f"Toner ({words('shared')})"
    )
    composer.get_by_role("button", name=words("Insert")).click()
    body = page.get_by_label(words("Reply"), exact=True)
    expect(body).to_have_value("Hello Alice, toner is on its way.")
    body.press("End")
    body.type(" And a <b>new</b> drum & fuser.")
    typed = "Hello Alice, toner is on its way. And a <b>new</b> drum & fuser."
    composer.get_by_label("Cc").fill("boss@acme.example, not-an-address")
    composer.get_by_label("printer-log.txt").check()
    status_to = words("After sending, set the status to")
    composer.get_by_label(status_to).select_option("in_progress")
    composer.get_by_role("button", name=words("Send reply")).click()

    problems = page.locator("#reply-problems")
    expect(problems.get_by_role("listitem")).to_have_text(
        words(
            "Cc: {address} is not a plain e-mail address; write it as name@example.com.",
            address="not-an-address",
        )
    )
    composer = page.get_by_role("region", name=words("Reply to the customer"))
    expect(page.get_by_label(words("Reply"), exact=True)).to_have_value(typed)
    expect(composer.get_by_label("Cc")).to_have_value("boss@acme.example, not-an-address")
    expect(composer.get_by_label("printer-log.txt")).to_be_checked()
    expect(composer.get_by_label(status_to)).to_have_value("in_progress")
    assert _outbox_count(runtime) == 0
    assert_no_english(page, words)
    assert_accessible(page)
    composer.screenshot(path=screenshots / f"reply-refused-{language}.png")

    # An emptied text is kept from posting by the browser; the Cc fixed, a double click
    # on Send sends one mail.
    composer.get_by_label("Cc").fill("boss@acme.example")
    composer.get_by_role("button", name=words("Send reply")).dblclick()
    expect(page.get_by_role("status")).to_contain_text(
        words(
            "Reply queued for {recipients}; it is sent in a moment.",
            recipients="alice@acme.example, boss@acme.example",
        )
    )
    page.wait_for_load_state("networkidle")
    assert _outbox_count(runtime) == 1
    assert watch.errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_status_changed_meanwhile_is_a_conflict_that_keeps_the_text(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch, language: str
) -> None:
    made = printer_ticket(runtime)
    words = speak(runtime, agent, language)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    page.get_by_label(words("Reply"), exact=True).fill("I am on it.")
    composer = page.get_by_role("region", name=words("Reply to the customer"))
    composer.get_by_label(words("After sending, set the status to")).select_option("in_progress")
    _uid, token = support_api.make_user(runtime, ["agents"], name="Colleague")
    changed = page.request.patch(
        f"{server}/api/v1/tickets/{made.ticket_id}",
        data={"status": "waiting_customer"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.ok
    composer.get_by_role("button", name=words("Send reply")).click()
    expect(page.locator("#reply-problems").get_by_role("listitem")).to_have_text(
        words(
            "Someone changed the status of this ticket to {status} after you opened it, so "
            "your reply was not sent. Check the status to set and send it again.",
            status=words("Waiting for customer"),
        )
    )
    expect(page.get_by_label(words("Reply"), exact=True)).to_have_value("I am on it.")
    assert _outbox_count(runtime) == 0
    assert_no_english(page, words)
    assert_accessible(page)
    # The page now shows the new status; sent again, the reply goes.
    page.get_by_role("region", name=words("Reply to the customer")).get_by_role(
        "button", name=words("Send reply")
    ).click()
    expect(page.get_by_role("status")).to_contain_text(
        words(
            "Reply queued for {recipients}; it is sent in a moment.",
            recipients="alice@acme.example",
        )
    )
    assert _outbox_count(runtime) == 1
    assert watch.errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_signature_set_on_my_account_is_in_the_mail_sent(
    page: Page,
    server: str,
    runtime: Runtime,
    agent: str,
    sink: tuple[int, SinkHandler],
    watch: Watch,
    language: str,
) -> None:
    made = printer_ticket(runtime)
    words = speak(runtime, agent, language)
    log_in(page, server, agent)
    page.goto(f"{server}/account")
    profile = page.locator("#profile-form")
    profile.get_by_label(words("Signature")).fill("Agnes Agent\nSecond-line support, Hubdesk A/S")
    profile.get_by_role("button", name=words("Save")).click()
    expect(page.get_by_role("status")).to_have_text(words("Your details were saved."))
    assert_no_english(page, words)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    page.get_by_label(words("Reply"), exact=True).fill("The technician comes at 10.")
    page.get_by_role("button", name=words("Send reply")).click()
    expect(page.get_by_role("status")).to_contain_text(
        words(
            "Reply queued for {recipients}; it is sent in a moment.",
            recipients="alice@acme.example",
        )
    )
    send_due(runtime)
    [received] = [r for r in sink[1].received if b"The technician comes" in r.data]
    assert received.rcpt_tos == ["alice@acme.example"]
    mail = BytesParser(policy=policy.default).parsebytes(received.data)
    part = mail.get_body(("plain",))
    assert part is not None
    text = str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]
    reply_at = text.index("The technician comes at 10.")
    signature_at = text.index("\n-- \nAgnes Agent\nSecond-line support, Hubdesk A/S\n")
    assert reply_at < signature_at
    # The customer's mail is quoted below the signature, introduced in the agent's language.
    assert signature_at < text.index("> ")
    wrote = {"en": r"\nOn .+, .+ wrote:\n> ", "da": r"\nDen .+ skrev .+:\n> "}[language]
    assert re.search(wrote, text[signature_at:]), text
    assert watch.errors == []


def _notified(runtime: Runtime) -> list[tuple[int | None, list[str]]]:
    with runtime.db.transaction(write=False) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "notification")
            .order_by(OutboxMessage.id)
        )
        return [(row.ticket_id, list(row.recipients)) for row in rows]


def test_assigning_on_the_page_and_in_bulk_tells_the_assignee_once(
    page: Page, server: str, runtime: Runtime, agent: str, watch: Watch
) -> None:
    """The Details form and the list's bulk assign notify through the ticket service, once
    per ticket; taking a ticket oneself tells nobody."""
    made = printer_ticket(runtime)
    second = ingest(runtime, message(subject="Scanner jams", sender="bo@acme.example"), source="t")
    _olga, olga = make_user(runtime, ["agents"], name="Olga Other")
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    details = page.locator("#details-form")
    details.get_by_label("Assignee").select_option(label="Agnes Agent")
    details.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Ticket saved.")
    assert _notified(runtime) == []
    details = page.locator("#details-form")
    details.get_by_label("Assignee").select_option(label="Olga Other")
    details.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Ticket saved.")
    assert _notified(runtime) == [(made.ticket_id, [olga])]

    page.goto(f"{server}/tickets")
    page.get_by_label("Select all").check()
    page.get_by_label("Action").select_option("assign")
    page.locator("#bulk-assignee").select_option(label="Olga Other")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("button", name="Confirm").dblclick()
    expect(page.get_by_role("status").first).to_contain_text(second.ticket_number or "")
    page.wait_for_load_state("networkidle")
    assert _notified(runtime) == [(made.ticket_id, [olga]), (second.ticket_id, [olga])]
    assert_accessible(page)
    assert watch.errors == []
