"""Admin pages (users and groups, the inbound ledger) and the customer pages, HTTP level."""

from __future__ import annotations

from sqlalchemy import select

from hubdesk.inbound.models import InboundMessage
from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.models import User
from hubdesk.users.permissions import SYSTEM
from hubdesk.users.secrets import verify_password
from hubdesk.web.ui import flash
from hubdesk.worklogs import service as worklogs
from tests.integration.ui.client import PASSWORD, UiClient, csrf_of
from tests.integration.ui.mails import message
from tests.integration.ui.scenario import printer_ticket
from tests.support import factories


def _message(ui: UiClient, response: object) -> str:
    shown = flash.newest(ui.runtime.secret_key, response.cookies)  # type: ignore[attr-defined]
    assert shown is not None
    return shown.text


def test_an_admin_creates_and_changes_users(ui: UiClient, runtime: Runtime) -> None:
    """The users page lists users and the seeded groups with their permissions; a created user
    can sign in; an admin changes groups and deactivates, which ends that user's session."""
    ui.log_in_as(["admins"])
    page = ui.get("/admin/users").text
    assert "readonly" in page
    assert "<code>inbound.reprocess</code>" in page
    created = ui.post(
        "/admin/users",
        {
            "email": "Bo@Example.com",
            "name": "Bo",
            "password": "a long password",
            "groups": ["agents"],
            "language": "da",
        },
    )
    assert _message(ui, created) == "User created."
    with runtime.db.transaction(write=False) as session:
        bo = session.scalars(select(User).where(User.email == "bo@example.com")).one()
        bo_id = bo.id
        assert [g.name for g in bo.groups] == ["agents"]
        assert bo.language == "da"

    duplicate = ui.post(
        "/admin/users", {"email": "bo@example.com", "name": "Bo again", "back": "/admin/users"}
    )
    assert _message(ui, duplicate) == "a user with e-mail bo@example.com already exists"
    assert duplicate.headers["location"] == "/admin/users"

    from fastapi.testclient import TestClient

    from hubdesk.web.app import create_app

    with TestClient(create_app(runtime.settings, runtime=runtime)) as other:
        token = csrf_of(other.get("/login").text)
        login = other.post(
            "/login",
            data={"email": "bo@example.com", "password": "a long password", "csrf_token": token},
            follow_redirects=False,
        )
        assert login.status_code == 303
        assert "Overblik" in other.get("/").text
        changed = ui.post(
            f"/admin/users/{bo_id}",
            {"name": "Bo B.", "language": "en", "groups": ["readonly", "agents"]},
        )
        assert _message(ui, changed) == "User saved."
        assert other.get("/", follow_redirects=False).headers["location"] == "/login"
    with runtime.db.transaction(write=False) as session:
        bo = session.get(User, bo_id)
        assert bo is not None
        assert not bo.active
        assert bo.name == "Bo B."
        assert sorted(g.name for g in bo.groups) == ["agents", "readonly"]


def test_the_inbound_ledger_shows_problems_and_refuses_what_it_cannot_redo(
    ui: UiClient, runtime: Runtime
) -> None:
    """Quarantined mail is listed first with its reason; the message page shows its raw text
    escaped; processed mail has no reprocess button and a forged reprocess comes back with
    the ledger's reason; agents without inbound.view get 403."""
    strict = Runtime.build(runtime.settings.model_copy(update={"mail_max_message_bytes": 1024}))
    try:
        bad = ingest(strict, message(subject="<b>big</b>", text="y" * 3000), source="test")
    finally:
        strict.close()
    good = printer_ticket(runtime)
    assert bad.status == "quarantined"
    ui.log_in_as(["admins"])
    listing = ui.get("/admin/inbound").text
    assert "message_size" in listing
    assert "Printer prints blank pages" not in listing
    assert "Printer prints blank pages" in ui.get("/admin/inbound?status=processed").text
    detail = ui.get(f"/admin/inbound/{bad.inbound_id}").text
    assert "Subject: &lt;b&gt;big&lt;/b&gt;" in detail
    assert "Process again" in detail
    with runtime.db.transaction(write=False) as session:
        processed = session.scalars(
            select(InboundMessage.id).where(InboundMessage.ticket_id == good.ticket_id)
        ).one()
    assert "Process again" not in ui.get(f"/admin/inbound/{processed}").text
    refused = ui.post(f"/admin/inbound/{processed}/reprocess")
    assert refused.headers["location"] == f"/admin/inbound/{processed}"
    assert "only quarantined, failed or received messages are re-processed" in _message(ui, refused)

    ui.forget_cookies()
    ui.log_in_as(["agents"])
    assert ui.get("/admin/inbound").status_code == 403
    assert ui.post(f"/admin/inbound/{bad.inbound_id}/reprocess").status_code == 403


def test_a_customer_page_shows_contacts_tickets_time_and_cards(
    ui: UiClient, runtime: Runtime
) -> None:
    """The customer's contacts, its tickets, the time logged on them (total, billable, on
    cards) and each prepaid card's balance; the list finds customers by name."""
    made = printer_ticket(runtime)
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        new = worklogs.NewWorklog(minutes=50, billing="prepaid", prepaid_card_id=made.card_id)
        worklogs.create_worklog(session, SYSTEM, ticket, new, today=runtime.today())
        worklogs.create_worklog(
            session,
            SYSTEM,
            ticket,
            worklogs.NewWorklog(minutes=15, billable=False),
            today=runtime.today(),
        )
        factories.card(session, made.customer_id, "0.5")
        factories.customer(session, "Other Corp")
    ui.log_in_as(["readonly"])
    assert "Acme A/S" not in ui.get("/customers?q=other").text
    listing = ui.get("/customers?q=acme").text
    assert f'href="/customers/{made.customer_id}"' in listing
    page = ui.get(f"/customers/{made.customer_id}").text
    assert "alice@acme.example" in page
    assert made.ticket_number in page
    assert "<dt>Total</dt><dd>1:05</dd>" in page
    assert "<dt>Billable</dt><dd>0:50</dd>" in page
    assert "<dt>On prepaid cards</dt><dd>0:50</dd>" in page
    assert "<strong>1:10</strong>" in page
    assert "<strong>0:30</strong>" in page


def test_an_admin_changing_their_own_password_gives_the_current_one(
    ui: UiClient, runtime: Runtime
) -> None:
    """The user page asks for the current password only on one's own page; without it (or
    with a wrong one) the change is refused with the reason and the password stays."""
    own_id = ui.log_in_as(["admins"])
    assert 'name="current_password"' in ui.get(f"/admin/users/{own_id}").text
    form = {"name": "Me", "language": "en", "groups": ["admins"], "password": "a brand new pw"}
    refused = ui.post(f"/admin/users/{own_id}", form)
    assert "current_password is required" in _message(ui, refused)
    wrong = ui.post(f"/admin/users/{own_id}", {**form, "current_password": "not it at all"})
    assert "current_password is not your current password" in _message(ui, wrong)
    with runtime.db.transaction(write=False) as session:
        assert verify_password(session.get(User, own_id).password_hash, PASSWORD)  # type: ignore[union-attr]
    saved = ui.post(f"/admin/users/{own_id}", {**form, "current_password": PASSWORD})
    assert _message(ui, saved) == "User saved."
    with runtime.db.transaction(write=False) as session:
        assert verify_password(session.get(User, own_id).password_hash, "a brand new pw")  # type: ignore[union-attr]
