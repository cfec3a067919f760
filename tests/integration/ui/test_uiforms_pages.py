"""The forms that create things by hand: a ticket (a phone call), customers and contacts,
files, prepaid cards, API tokens and "My account" (HTTP level, SQLite and PostgreSQL).

Each goes through the same service as the API; a refused form comes back as typed with the
reason (422); the form's one-time token makes a repeated post create nothing new."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets import attachments
from hubdesk.tickets.models import Attachment, Comment, Ticket
from hubdesk.users.session_models import FormPost
from tests.integration.ui.client import UiClient, flash_of, text_of
from tests.integration.ui.scenario import printer_ticket
from tests.support import factories

_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def form_token(page: str) -> str:
    found = _TOKEN.search(page)
    assert found, "the form has no one-time token"
    return found.group(1)


def count(runtime: Runtime, model: type, *where: object) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_an_agent_opens_a_ticket_by_hand_once(ui: UiClient, runtime: Runtime) -> None:
    """The phone-call form opens a ticket with the chosen contact, whose customer comes
    along; sending the same form again opens nothing new and leads to the same ticket."""
    with runtime.db.transaction() as session:
        acme = factories.customer(session, "Acme A/S")
        alice = factories.contact(session, "alice@acme.example", customer_id=acme.id)
        acme_id, alice_id = acme.id, alice.id
    me = ui.log_in_as(["agents"], name="Agnes Agent")
    page = ui.get("/tickets/new")
    assert page.status_code == 200
    assert "alice@acme.example (Acme A/S)" in text_of(page.text)
    token = form_token(page.text)
    posted = {
        "subject": "Printer on floor 3",
        "description": "Called at 9:10; blank pages.",
        "contact_id": str(alice_id),
        "priority": "high",
        "assignee": str(me),
        "tags": "printer, phone",
        "form_token": token,
    }
    first = ui.post("/tickets/new", posted)
    assert first.status_code == 303
    with runtime.db.transaction(write=False) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.subject, ticket.source, ticket.priority) == (
            "Printer on floor 3",
            "web",
            "high",
        )
        assert (ticket.customer_id, ticket.contact_id) == (acme_id, alice_id)
        assert ticket.assigned_to_user_id == me
        assert ticket.tags == ["printer", "phone"]
        ticket_id = ticket.id
    assert first.headers["location"] == f"/tickets/{ticket_id}"
    again = ui.post("/tickets/new", posted)
    assert again.status_code == 303
    assert again.headers["location"] == f"/tickets/{ticket_id}"
    assert count(runtime, Ticket) == 1
    assert count(runtime, FormPost) == 1


def test_a_refused_ticket_keeps_what_was_typed(ui: UiClient, runtime: Runtime) -> None:
    """An empty subject, or a contact of another customer, comes back as typed with the
    reason; nothing is created and the token may be sent again once corrected."""
    with runtime.db.transaction() as session:
        acme = factories.customer(session, "Acme A/S")
        other = factories.customer(session, "Other ApS")
        bob = factories.contact(session, "bob@other.example", customer_id=other.id)
        acme_id, bob_id = acme.id, bob.id
    ui.log_in_as(["agents"])
    token = form_token(ui.get("/tickets/new").text)
    refused = ui.post(
        "/tickets/new",
        {"subject": "  ", "description": "Typed <carefully>", "form_token": token},
    )
    assert refused.status_code == 422
    assert "subject" in text_of(refused.text)
    assert "Typed &lt;carefully&gt;</textarea>" in refused.text
    mismatch = ui.post(
        "/tickets/new",
        {
            "subject": "Scanner",
            "customer_id": str(acme_id),
            "contact_id": str(bob_id),
            "form_token": token,
        },
    )
    assert mismatch.status_code == 422
    assert 'value="Scanner"' in mismatch.text
    assert count(runtime, Ticket) == 0
    assert count(runtime, FormPost) == 0
    fixed = ui.post(
        "/tickets/new", {"subject": "Scanner", "contact_id": str(bob_id), "form_token": token}
    )
    assert fixed.status_code == 303
    assert count(runtime, Ticket) == 1


def test_opening_tickets_needs_the_permission(ui: UiClient) -> None:
    """A read-only user gets 403 and sees no "New ticket" link."""
    ui.log_in_as(["readonly"])
    assert "/tickets/new" not in ui.get("/tickets").text
    assert ui.get("/tickets/new").status_code == 403
    assert ui.post("/tickets/new", {"subject": "x"}).status_code == 403


def test_an_admin_creates_and_changes_a_customer_and_a_contact(
    ui: UiClient, runtime: Runtime
) -> None:
    """Customers with their domains and contacts through the same service as the API: a
    free-mail or taken domain is refused with the form as typed; a double post creates one."""
    from hubdesk.customers.models import Contact, Customer

    ui.log_in_as(["admins"])
    token = form_token(ui.get("/customers/new").text)
    free = ui.post(
        "/customers/new",
        {
            "name": "Acme A/S",
            "domains": "acme.example\ngmail.com",
            "notes": "VIP",
            "active": "1",
            "form_token": token,
        },
    )
    assert free.status_code == 422
    assert "gmail.com is a free-mail domain" in text_of(free.text)
    assert "acme.example\ngmail.com</textarea>" in free.text
    assert 'value="Acme A/S"' in free.text
    good = {
        "name": "Acme A/S",
        "domains": "Acme.Example, acme.dk",
        "active": "1",
        "form_token": token,
    }
    made = ui.post("/customers/new", good)
    assert made.status_code == 303
    again = ui.post("/customers/new", good)
    assert again.headers["location"] == made.headers["location"]
    assert count(runtime, Customer) == 1
    with runtime.db.transaction(write=False) as session:
        acme = session.scalars(select(Customer)).one()
        assert acme.domains == ["acme.dk", "acme.example"]
        acme_id = acme.id
    assert made.headers["location"] == f"/customers/{acme_id}"

    other = ui.post(
        "/customers/new",
        {
            "name": "Other",
            "domains": "acme.dk",
            "form_token": form_token(ui.get("/customers/new").text),
        },
    )
    assert other.status_code == 422
    assert f"domain acme.dk already belongs to customer {acme_id}" in text_of(other.text)

    edit = ui.get(f"/customers/{acme_id}/edit")
    assert "acme.dk\nacme.example</textarea>" in edit.text
    saved = ui.post(
        f"/customers/{acme_id}/edit", {"name": "Acme Danmark A/S", "domains": "acme.dk"}
    )
    assert saved.status_code == 303
    with runtime.db.transaction(write=False) as session:
        acme = session.get(Customer, acme_id)
        assert acme is not None
        assert (acme.name, acme.domains, acme.active) == ("Acme Danmark A/S", ["acme.dk"], False)

    page = ui.get(f"/contacts/new?customer={acme_id}")
    assert f'<option value="{acme_id}" selected>' in page.text
    contact = {
        "email": "Alice@Acme.dk",
        "name": "Alice",
        "customer_id": str(acme_id),
        "form_token": form_token(page.text),
    }
    created = ui.post("/contacts/new", contact)
    assert created.headers["location"] == f"/customers/{acme_id}"
    assert ui.post("/contacts/new", contact).headers["location"] == f"/customers/{acme_id}"
    assert "alice@acme.dk" in text_of(ui.get(f"/customers/{acme_id}").text)
    duplicate = ui.post(
        "/contacts/new",
        {
            "email": "alice@acme.dk",
            "name": "Alice 2",
            "form_token": form_token(ui.get("/contacts/new").text),
        },
    )
    assert duplicate.status_code == 422
    assert "a contact with e-mail alice@acme.dk already exists" in text_of(duplicate.text)
    assert 'value="Alice 2"' in duplicate.text
    assert count(runtime, Contact) == 1


def test_customers_and_contacts_need_the_permission(ui: UiClient, runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        acme_id = factories.customer(session, "Acme A/S").id
    ui.log_in_as(["agents"])
    assert "/customers/new" not in ui.get("/customers").text
    assert f"/customers/{acme_id}/edit" not in ui.get(f"/customers/{acme_id}").text
    for path in ("/customers/new", f"/customers/{acme_id}/edit", "/contacts/new"):
        assert ui.get(path).status_code == 403
        assert ui.post(path, {"name": "x", "email": "x@y.example"}).status_code == 403


def test_files_uploaded_to_a_ticket_download_safely(
    ui: UiClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several files at once through the attachments service; an HTML file comes back as a
    download that cannot run; a file over the upload limit is refused and nothing is kept."""
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    page = ui.get(f"/tickets/{made.ticket_id}")
    assert 'id="files-form"' in page.text
    files = [
        ("files", ("notes.txt", b"toner E42\n", "text/plain")),
        ("files", ("evil.html", b"<script>alert(1)</script>", "text/html")),
    ]
    sent = ui.post(
        f"/tickets/{made.ticket_id}/files", {"form_token": form_token(page.text)}, files=files
    )
    assert sent.status_code == 303
    assert flash_of(runtime, sent).text == "2 files added."
    with runtime.db.transaction(write=False) as session:
        rows = session.scalars(
            select(Attachment).where(Attachment.filename.in_(["notes.txt", "evil.html"]))
        ).all()
        ids = {a.filename: a.id for a in rows}
        assert all(a.comment_id is None and a.ticket_id == made.ticket_id for a in rows)
    evil = ui.get(f"/attachments/{ids['evil.html']}")
    assert evil.content == b"<script>alert(1)</script>"
    assert evil.headers["content-type"] == "application/octet-stream"
    assert evil.headers["content-disposition"].startswith("attachment;")
    assert evil.headers["content-security-policy"] == "sandbox"
    assert "notes.txt" in ui.get(f"/tickets/{made.ticket_id}").text

    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES", 8)
    before = count(runtime, Attachment)
    big = ui.post(
        f"/tickets/{made.ticket_id}/files",
        {"form_token": form_token(page.text) + "x", "back": f"/tickets/{made.ticket_id}"},
        files=[
            ("files", ("small.txt", b"ok", "text/plain")),
            ("files", ("big.bin", b"9" * 9, "x/y")),
        ],
    )
    assert big.status_code == 303
    assert flash_of(runtime, big).text == "big.bin is larger than the limit of 8 bytes a file"
    assert count(runtime, Attachment) == before


def test_a_note_and_a_reply_carry_uploaded_files(
    ui: UiClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note's files belong to the note and show in its entry; a reply's files go out with
    the mail and belong to the reply. A refused note comes back with its text; the same
    reply form sent twice sends one mail."""
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    page = ui.get(f"/tickets/{made.ticket_id}").text
    note = ui.post(
        f"/tickets/{made.ticket_id}/note",
        {"body": "Log from the phone call", "form_token": form_token(page)},
        files=[("files", ("call.txt", b"called 9:10", "text/plain")), ("files", ("", b"", ""))],
    )
    assert note.status_code == 303
    assert flash_of(runtime, note).text == "Internal note added."
    with runtime.db.transaction(write=False) as session:
        comment = session.scalars(select(Comment).where(Comment.is_internal.is_(True))).one()
        stored = session.scalars(select(Attachment).where(Attachment.comment_id == comment.id))
        assert [a.filename for a in stored] == ["call.txt"]
        note_id = comment.id
    shown = ui.get(f"/tickets/{made.ticket_id}").text
    entry = shown[shown.index(f'id="comment-{note_id}"') :]
    assert "call.txt" in entry[: entry.index("</li>")]

    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES", 4)
    refused = ui.post(
        f"/tickets/{made.ticket_id}/note",
        {"body": "Second <note>", "form_token": form_token(shown)},
        files=[("files", ("big.txt", b"12345", "text/plain"))],
    )
    assert refused.status_code == 422
    assert "Second &lt;note&gt;</textarea>" in refused.text
    assert "big.txt is larger than the limit of 4 bytes a file" in text_of(refused.text)
    assert count(runtime, Comment, Comment.is_internal.is_(True)) == 1
    monkeypatch.undo()

    reply = {"body": "Here is the driver.", "status": "", "form_token": form_token(shown)}
    upload = [("files", ("driver.txt", b"driver v2", "text/plain"))]
    first = ui.post(f"/tickets/{made.ticket_id}/reply", reply, files=upload)
    assert first.status_code == 303
    again = ui.post(f"/tickets/{made.ticket_id}/reply", reply, files=upload)
    assert again.headers["location"] == f"/tickets/{made.ticket_id}"
    with runtime.db.transaction(write=False) as session:
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "agent_reply"))
        mails = list(sent)
        assert len(mails) == 1
        assert b"driver.txt" in mails[0].raw
        driver = session.scalars(select(Attachment).where(Attachment.filename == "driver.txt"))
        row = driver.one()
        reply_comment = session.get(Comment, row.comment_id)
        assert reply_comment is not None
        assert reply_comment.body == "Here is the driver."


def test_uploading_needs_tickets_edit(ui: UiClient, runtime: Runtime) -> None:
    made = printer_ticket(runtime)
    ui.log_in_as(["readonly"])
    assert 'id="files-form"' not in ui.get(f"/tickets/{made.ticket_id}").text
    refused = ui.post(
        f"/tickets/{made.ticket_id}/files", files=[("files", ("a.txt", b"a", "text/plain"))]
    )
    assert refused.status_code == 403


def test_an_admin_buys_sees_and_cancels_a_prepaid_card(ui: UiClient, runtime: Runtime) -> None:
    """Buying through the prepaid service (refusals as typed, a double post buys one card);
    the card's page shows its balance and each draw-down with its ticket; cancelling ends it."""
    from hubdesk.prepaid.models import PrepaidCard

    made = printer_ticket(runtime)
    ui.log_in_as(["admins"])
    page = ui.get(f"/customers/{made.customer_id}/cards/new")
    token = form_token(page.text)
    bad = {
        "hours_bought": "2,5",
        "price": "1500",
        "currency": "DKK",
        "bought_on": "2026-03-01",
        "expires_on": "2026-01-01",
        "notes": "Spring deal",
        "form_token": token,
    }
    refused = ui.post(f"/customers/{made.customer_id}/cards/new", bad)
    assert refused.status_code == 422
    assert "expires_on must not be before bought_on" in text_of(refused.text)
    assert 'value="2,5"' in refused.text
    assert "Spring deal</textarea>" in refused.text
    garbled = ui.post(f"/customers/{made.customer_id}/cards/new", {**bad, "hours_bought": "ten"})
    assert "hours_bought must be a number such as 1.5" in text_of(garbled.text)
    good = {**bad, "expires_on": "2027-03-01"}
    bought = ui.post(f"/customers/{made.customer_id}/cards/new", good)
    assert bought.status_code == 303
    again = ui.post(f"/customers/{made.customer_id}/cards/new", good)
    assert again.headers["location"] == bought.headers["location"]
    with runtime.db.transaction() as session:
        cards = session.scalars(
            select(PrepaidCard).where(PrepaidCard.customer_id == made.customer_id)
        ).all()
        assert len(cards) == 2  # the scenario's card and the one bought
        card = max(cards, key=lambda c: c.id)
        assert (card.hours_bought, card.price, card.currency) == (2.5, 1500, "DKK")
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        factories.worklog(
            session,
            ticket,
            30,
            billing="prepaid",
            prepaid_card_id=card.id,
            description="Replaced the toner sensor",
        )
        card_id = card.id
    assert bought.headers["location"] == f"/prepaid-cards/{card_id}"
    shown = text_of(ui.get(f"/prepaid-cards/{card_id}").text)
    assert "Hours 2:30 Used 0:30 Left 2:00" in shown
    assert made.ticket_number in shown
    assert "Replaced the toner sensor" in shown
    cancelled = ui.post(f"/prepaid-cards/{card_id}/cancel")
    assert cancelled.status_code == 303
    with runtime.db.transaction(write=False) as session:
        stored = session.get(PrepaidCard, card_id)
        assert stored is not None
        assert stored.status == "cancelled"
    assert "Cancel card" not in ui.get(f"/prepaid-cards/{card_id}").text


def test_agents_see_cards_but_may_not_buy_or_cancel(ui: UiClient, runtime: Runtime) -> None:
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    customer_page = ui.get(f"/customers/{made.customer_id}").text
    assert f'href="/prepaid-cards/{made.card_id}"' in customer_page
    assert "/cards/new" not in customer_page
    card_page = ui.get(f"/prepaid-cards/{made.card_id}")
    assert card_page.status_code == 200
    assert "Cancel card" not in card_page.text
    assert ui.post(f"/prepaid-cards/{made.card_id}/cancel").status_code == 403
    assert ui.get(f"/customers/{made.customer_id}/cards/new").status_code == 403
    assert (
        ui.post(f"/customers/{made.customer_id}/cards/new", {"hours_bought": "1"}).status_code
        == 403
    )
