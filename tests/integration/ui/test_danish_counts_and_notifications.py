"""Danish without gaps: counts use real plural forms (Babel), every "why it is here" reason is
translated, and agent notification mails are in the agent's language with a link to the
ticket at HUBDESK_PUBLIC_URL (both databases)."""

from __future__ import annotations

import email
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.automation import assignment
from hubdesk.automation import reasons as automation_reasons
from hubdesk.config import Settings, load_settings
from hubdesk.errors import ConfigError
from hubdesk.intake.pipeline import ingest
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users import service as users
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.ui import i18n, labels, reasons
from tests.integration.ui.client import PASSWORD, UiClient, text_of
from tests.integration.ui.mails import message
from tests.integration.ui.scenario import printer_ticket
from tests.support import api as support_api


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Mail can be queued (an SMTP host is named; nothing is sent here) and links have a base."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        smtp_host="127.0.0.1",
        public_url="https://help.example.com/desk/",
        _env_file=None,  # type: ignore[call-arg]
    )


def _danish_agent(runtime: Runtime, name: str = "Dorte Dansk") -> tuple[int, str]:
    address = f"{name.split()[0].lower()}@agents.example.com"
    with runtime.db.transaction() as session:
        user = users.create_user(
            session,
            SYSTEM,
            email=address,
            name=name,
            password=PASSWORD,
            groups=["agents"],
            language="da",
        )
        return user.id, address


def test_counts_use_danish_plural_forms(ui: UiClient, runtime: Runtime) -> None:
    printer_ticket(runtime)
    _uid, address = _danish_agent(runtime)
    assert ui.log_in(address).status_code == 303
    one = text_of(ui.get("/tickets").text)
    assert "1 sag " in one
    assert "1 sager" not in one
    ingest(runtime, message(subject="Anden sag", sender="bo@acme.example"), source="test")
    assert "2 sager" in text_of(ui.get("/tickets").text)
    assert "1 kunde" in text_of(ui.get("/customers").text)


def test_plural_forms_follow_the_language_rules() -> None:
    _n = i18n.plural_translator("da")
    assert [_n("{count} ticket", "{count} tickets", n) for n in (0, 1, 2)] == [
        "0 sager",
        "1 sag",
        "2 sager",
    ]
    _e = i18n.plural_translator("en")
    assert [_e("{count} ticket", "{count} tickets", n) for n in (0, 1, 2)] == [
        "0 tickets",
        "1 ticket",
        "2 tickets",
    ]


def test_every_reason_the_threading_writes_is_translated() -> None:
    """Each sentence shape of `intake.threading` comes out Danish, with its values kept."""
    _ = i18n.translator("da")
    stored = [
        "In-Reply-To <a@b> is a message stored on the ticket",
        "References <TKT-20250101-001.abc.def@x> is one of our signed Message-IDs for "
        "TKT-20250101-001",
        "its subject names TKT-20250101-001 (TICKET_THREADING_POLICY=any)",
        "a Message-ID it refers to names TKT-20250101-001 and the sender is an agent",
        "its subject names TKT-20250101-001 and the sender is of the ticket customer's "
        "domain acme.example",
        "its subject names TKT-20250101-001 and the sender wrote to the ticket before",
        "its subject names TKT-20250101-001 and the sender is the ticket's contact",
        "its subject names TKT-20250101-001, but the sender eve@x.example takes no part in "
        "that ticket; a new ticket was opened instead",
        "it names TKT-20250101-009, which does not exist",
        "no In-Reply-To, References or subject token matched a ticket",
    ]
    english_words = {"ticket", "sender", "names", "matched", "stored", "signed", "refers"}
    for reason in stored:
        shown = reasons.why_here(reason, _)
        assert shown != reason, reason
        assert not english_words & set(shown.replace(",", " ").split()), shown
    assert "acme.example" in reasons.why_here(stored[4], _)
    assert reasons.why_here("something new", _) == "something new"
    assert set(labels.REASON) == {
        "stored",
        "signed",
        "any",
        "participant",
        "refused",
        "missing",
        "nothing",
    }


def test_the_ticket_page_shows_the_reason_in_danish(ui: UiClient, runtime: Runtime) -> None:
    made = printer_ticket(runtime)
    _uid, address = _danish_agent(runtime)
    assert ui.log_in(address).status_code == 303
    page = text_of(ui.get(f"/tickets/{made.ticket_id}").text)
    assert "hverken In-Reply-To, References eller et sagsnummer i emnet passede til en sag" in page
    assert "no In-Reply-To" not in page


def test_notifications_are_in_the_agents_language_and_link_to_the_ticket(
    ui: UiClient, runtime: Runtime
) -> None:
    made = printer_ticket(runtime)
    danish, _address = _danish_agent(runtime)
    english, _token = support_api.make_user(runtime, ["agents"], name="Erik English")
    _boss, token = support_api.make_user(runtime, ["admins"], name="Boss")
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/tickets/{made.ticket_id}"
    assert ui.client.patch(url, json={"assigned_to_user_id": danish}, headers=auth).is_success
    second = ingest(runtime, message(subject="Printer 2", sender="bo@acme.example"), source="test")
    other = f"/api/v1/tickets/{second.ticket_id}"
    assert ui.client.patch(other, json={"assigned_to_user_id": english}, headers=auth).is_success
    with runtime.db.transaction(write=False) as session:
        rows = [
            (row.subject, _body(row.raw))
            for row in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "notification")
                .order_by(OutboxMessage.id)
            )
        ]
    assert len(rows) == 2
    subjects = [subject for subject, _ in rows]
    bodies = [body for _, body in rows]
    assert subjects[0].startswith(f"[{made.ticket_number}] er tildelt dig: ")
    assert f"https://help.example.com/desk/tickets/{made.ticket_id}" in bodies[0]
    assert "Prioritet: Normal" in bodies[0]
    assert "Status: Åben" in bodies[0]
    assert "] was assigned to you: " in subjects[1]
    assert f"https://help.example.com/desk/tickets/{second.ticket_id}" in bodies[1]


def _body(raw: bytes) -> str:
    part = email.message_from_bytes(raw, policy=default).get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "value",
    ["help.example.com", "ftp://x.example", "https://u:p@x.example", "https://x.example/?a=1"],
)
def test_public_url_is_validated(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(public_url=value, _env_file=None)
    assert "HUBDESK_PUBLIC_URL" in str(refused.value)


def test_automation_reasons_are_shown_in_the_readers_language(
    ui: UiClient, runtime: Runtime
) -> None:
    """An automatic change's reason is stored as message keys (`automation.reasons`) and
    shown in Danish to a Danish agent, in English to an English one; a row written before the
    keys (an English sentence) is shown as stored."""
    made = printer_ticket(runtime)
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        why = (
            automation_reasons.part("nobody_available", group="Support"),
            automation_reasons.part("default_unavailable", user_id=7),
        )
        assignment.record(session, ticket, assignment.Choice(None, why))
        reminded = automation_reasons.part(
            "reminded", days=3, sent=automation_reasons.part("reminder_no_contact")
        )
        tickets.record_event(
            session, SYSTEM, ticket, "pending_reminder", {"reason": [None, [reminded]]}
        )
        tickets.record_event(
            session, SYSTEM, ticket, "auto_closed", {"reason": [None, "an old English reason"]}
        )
        stored = session.scalars(
            select(AuditEntry.changes).where(AuditEntry.action == "auto_assigned")
        ).one()
    assert stored["reason"][1][0] == {"message": "nobody_available", "params": {"group": "Support"}}
    _uid, address = _danish_agent(runtime)
    assert ui.log_in(address).status_code == 303
    page = text_of(ui.get(f"/tickets/{made.ticket_id}").text)
    assert (
        "ingen ledig medarbejder i gruppen Support; "
        "standardmodtageren (bruger 7) er inaktiv eller ikke ledig"
    ) in page
    assert "ventede 3 dage på kunden (TICKET_PENDING_REMINDER_DAYS=3): ingen kontakt" in page
    assert "no available agent" not in page
    assert "an old English reason" in page
    ui.forget_cookies()
    ui.log_in_as(["agents"], name="Erik English")
    english_page = text_of(ui.get(f"/tickets/{made.ticket_id}").text)
    assert (
        "no available agent in group Support; "
        "the default assignee (user 7) is inactive or unavailable"
    ) in english_page
    assert (
        "waited 3 days for the customer (TICKET_PENDING_REMINDER_DAYS=3): no contact to remind"
        in english_page
    )
