"""The ticket page's forms (HTTP level): they call the services, write what the API would,
and answer with the page and a message; refused input goes back with the service's reason."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.customers import service as customers
from hubdesk.prepaid.models import PrepaidCard
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Comment, Ticket
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.ui import flash
from hubdesk.worklogs.models import Worklog
from tests.integration.ui.client import UiClient
from tests.integration.ui.scenario import printer_ticket
from tests.support import factories


def _message(ui: UiClient, response: object) -> str:
    shown = flash.newest(ui.runtime.secret_key, response.cookies)  # type: ignore[attr-defined]
    assert shown is not None, "the post left no message"
    return shown.text


def test_saving_details_changes_only_what_differs(ui: UiClient, runtime: Runtime) -> None:
    """The details form sends every field; only the changed ones reach the service, so the
    audit row names exactly status and priority."""
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    page = ui.get(f"/tickets/{made.ticket_id}").text
    assert 'name="subject" value="Printer prints blank pages"' in page
    answer = ui.post(
        f"/tickets/{made.ticket_id}/edit",
        {
            "subject": "Printer prints blank pages",
            "status": "in_progress",
            "priority": "high",
            "customer_id": str(made.customer_id),
            "contact_id": "1",
            "assigned_to_user_id": "",
            "tags": "",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/tickets/{made.ticket_id}"
    assert _message(ui, answer) == "Ticket saved."
    with runtime.db.transaction(write=False) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "updated").order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None
        assert entry.changes == {"status": ["open", "in_progress"], "priority": ["normal", "high"]}
        assert entry.actor.startswith("user:agent-")


def test_a_status_the_state_machine_refuses_comes_back_with_its_reason(
    ui: UiClient, runtime: Runtime
) -> None:
    """Open -> closed is not a transition; the page offers only allowed statuses, and a forged
    post returns to the ticket with the state machine's sentence and changes nothing."""
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    page = ui.get(f"/tickets/{made.ticket_id}").text
    assert '<option value="closed"' not in page
    assert '<option value="resolved"' in page
    answer = ui.post(f"/tickets/{made.ticket_id}/edit", {"status": "closed", "priority": "low"})
    assert answer.status_code == 303
    assert "cannot go from 'open' to 'closed'" in _message(ui, answer)
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        assert (ticket.status, ticket.priority) == ("open", "normal")


def test_reply_note_and_worklog_on_a_prepaid_card(ui: UiClient, runtime: Runtime) -> None:
    """A public comment is a web comment and marks the first response; a note is internal; a
    worklog on the card draws its minutes, and too many minutes are refused with the card's
    balance in the message."""
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    base = f"/tickets/{made.ticket_id}"
    assert (
        _message(ui, ui.post(f"{base}/comment", {"body": "On our way"}))
        == "Public comment added to the ticket."
    )
    assert _message(ui, ui.post(f"{base}/note", {"body": "Check toner"})) == "Internal note added."
    logged = ui.post(
        f"{base}/worklog",
        {
            "minutes": "30",
            "billing": "prepaid",
            "prepaid_card_id": str(made.card_id),
            "billable": "1",
            "work_date": "2025-12-15",
        },
    )
    assert _message(ui, logged) == "Time logged."
    too_much = ui.post(
        f"{base}/worklog",
        {"minutes": "120", "billing": "prepaid", "prepaid_card_id": str(made.card_id)},
    )
    assert "has 90 minutes left; 120 were asked for" in _message(ui, too_much)
    with runtime.db.transaction(write=False) as session:
        comments = session.scalars(
            select(Comment).where(Comment.source == "web").order_by(Comment.id)
        ).all()
        assert [(c.body, c.is_internal) for c in comments] == [
            ("On our way", False),
            ("Check toner", True),
        ]
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        assert ticket.first_response_at is not None
        worklogs = session.scalars(select(Worklog)).all()
        assert [(w.minutes, w.billing, w.work_date.isoformat()) for w in worklogs] == [
            (30, "prepaid", "2025-12-15")
        ]
        card = session.get(PrepaidCard, made.card_id)
        assert card is not None
        assert card.minutes_remaining == 90
    page = ui.get(base).text
    assert "Card #1: 1:30 of 2:00 hours left" in page


def test_merge_by_number_and_a_wrong_number(ui: UiClient, runtime: Runtime) -> None:
    """Merging names the target by its number and lands on it; a number that does not exist
    returns to the ticket with a message and merges nothing."""
    made = printer_ticket(runtime)
    with runtime.db.transaction() as session:
        other = factories.ticket(session, "Printer again")
        other_id, other_number = other.id, other.ticket_number
    ui.log_in_as(["agents"])
    wrong = ui.post(f"/tickets/{other_id}/merge", {"target": "TKT-19990101-001"})
    assert _message(ui, wrong) == "there is no ticket TKT-19990101-001"
    answer = ui.post(f"/tickets/{other_id}/merge", {"target": f" {made.ticket_number.lower()} "})
    assert answer.headers["location"] == f"/tickets/{made.ticket_id}"
    assert _message(ui, answer) == f"{other_number} was merged into this ticket."
    merged_page = ui.get(f"/tickets/{other_id}").text
    assert "This ticket was merged into" in merged_page
    assert f'action="/tickets/{other_id}/reply"' not in merged_page


def test_bulk_actions_go_ticket_by_ticket_and_name_what_they_left(
    ui: UiClient, runtime: Runtime
) -> None:
    """Bulk assign changes each ticket in a savepoint of its own: a merged ticket in the
    selection is named with the service's reason while the others are assigned. Bulk close
    closes open tickets by way of resolved and leaves closed ones alone."""
    from hubdesk.tickets import service
    from hubdesk.users.permissions import SYSTEM

    with runtime.db.transaction() as session:
        first, second, third = (factories.ticket(session, f"Ticket {n}") for n in range(3))
        service.merge_ticket(session, SYSTEM, third, first)
        ids = [first.id, second.id, third.id]
        numbers = f"{first.ticket_number}, {second.ticket_number}"
        third_number = third.ticket_number
    user_id = ui.log_in_as(["agents"])
    selected = [str(i) for i in ids]
    answer = ui.post(
        "/tickets/bulk",
        {
            "action": "assign",
            "assignee": str(user_id),
            "ids": selected,
            "back": "/tickets?status=",
            "confirmed": "1",
        },
    )
    assert answer.headers["location"] == "/tickets?status="
    assert _message(ui, answer) == (
        f"Changed 2 tickets: {numbers}. Skipped 1 ticket: {third_number} (ticket "
        f"{third_number} was merged into another ticket; change that one)."
    )
    closed = ui.post("/tickets/bulk", {"action": "close", "ids": selected, "confirmed": "1"})
    assert _message(ui, closed) == (
        f"Changed 2 tickets: {numbers}. Skipped 1 ticket: {third_number} (already so)."
    )
    with runtime.db.transaction(write=False) as session:
        rows = [session.get(Ticket, i) for i in ids]
        assert [(t.status, t.assigned_to_user_id) for t in rows if t] == [
            ("closed", user_id),
            ("closed", user_id),
            ("closed", None),
        ]
        steps = session.scalars(
            select(AuditEntry.changes).where(
                AuditEntry.ticket_id == ids[1], AuditEntry.action == "updated"
            )
        ).all()
    assert [s.get("status") for s in steps] == [None, ["open", "resolved"], ["resolved", "closed"]]
    # every ticket already as asked (a second click): no failure, a status; a refusal with
    # nothing changed: an error
    again = ui.post("/tickets/bulk", {"action": "close", "ids": selected, "confirmed": "1"})
    refused = ui.post(
        "/tickets/bulk",
        {"action": "assign", "assignee": str(user_id), "ids": [selected[2]], "confirmed": "1"},
    )
    kinds = [flash.newest(ui.runtime.secret_key, r.cookies) for r in (again, refused)]
    assert [shown.kind if shown else None for shown in kinds] == ["ok", "error"]


def test_language_choice_is_remembered_and_dates_follow_the_time_zone(
    ui: UiClient, runtime: Runtime
) -> None:
    """Dansk is stored on the user and used on every page; times show in HUBDESK_TIMEZONE
    (10:00 UTC in December is 11:00 in Copenhagen)."""
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, "Winter", now=datetime(2025, 12, 15, 10, 0, tzinfo=UTC))
        ticket_id = ticket.id
    user_id = ui.log_in_as(["agents"])
    assert "15 Dec 2025, 11:00" in ui.get(f"/tickets/{ticket_id}").text
    answer = ui.post("/preferences/language", {"language": "da", "back": f"/tickets/{ticket_id}"})
    assert answer.headers["location"] == f"/tickets/{ticket_id}"
    page = ui.get(f"/tickets/{ticket_id}").text
    assert '<html lang="da">' in page
    assert "15. dec. 2025 11:00" in page
    assert "Historik" in page
    from hubdesk.users.models import User

    with runtime.db.transaction(write=False) as session:
        user = session.get(User, user_id)
        assert user is not None
        assert user.language == "da"


def test_the_dashboard_counts_what_it_lists(ui: UiClient, runtime: Runtime) -> None:
    """My open tickets, unassigned, waiting for the customer and the priority counts come
    from the same scope as the list; the newest mail links to its place on the ticket."""
    made = printer_ticket(runtime)
    user_id = ui.log_in_as(["agents"])
    with runtime.db.transaction() as session:
        from hubdesk.tickets import service
        from hubdesk.users.permissions import SYSTEM

        mine = factories.ticket(session, "Mine", assigned_to_user_id=user_id, priority="critical")
        waiting = factories.ticket(session, "Waiting")
        service.update_ticket(session, SYSTEM, waiting, {"status": "waiting_customer"})
        mine_id = mine.id
    page = ui.get("/").text
    assert f'href="/tickets/{mine_id}"' in page
    assert f'href="/tickets/{made.ticket_id}#email-1"' in page
    critical = (
        'href="/tickets?status=active&amp;priority=critical">'
        '<span class="badge priority-critical">Critical</span> <span class="count">1</span>'
    )
    assert critical in page


def test_the_details_form_keeps_a_deactivated_assignee(ui: UiClient, runtime: Runtime) -> None:
    """A ticket whose assignee was deactivated still shows them selected, so saving the form
    for another change leaves the assignment as it was."""
    from hubdesk.users import service as users
    from hubdesk.users.models import User
    from hubdesk.users.permissions import SYSTEM
    from tests.integration.ui.client import make_user

    gone_id, _email = make_user(runtime, ["agents"], name="Gone Agent")
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, "Assigned", assigned_to_user_id=gone_id)
        ticket_id = ticket.id
        gone = session.get(User, gone_id)
        assert gone is not None
        users.update_user(session, SYSTEM, gone, active=False)
    ui.log_in_as(["agents"])
    page = ui.get(f"/tickets/{ticket_id}").text
    assert f'<option value="{gone_id}" selected>Gone Agent</option>' in page
    answer = ui.post(
        f"/tickets/{ticket_id}/edit",
        {"status": "in_progress", "assigned_to_user_id": str(gone_id), "customer_id": ""},
    )
    assert _message(ui, answer) == "Ticket saved."
    with runtime.db.transaction(write=False) as session:
        saved = session.get(Ticket, ticket_id)
        assert saved is not None
        assert (saved.status, saved.assigned_to_user_id) == ("in_progress", gone_id)


def test_another_customers_contact_is_refused_on_the_ticket_form(
    ui: UiClient, runtime: Runtime
) -> None:
    """The details form calls the same service as the API: a contact of another customer comes
    back with the reason, and the ticket keeps its contact (replies go where they went)."""
    made = printer_ticket(runtime)
    with runtime.db.transaction() as session:
        other = customers.create_customer(session, SYSTEM, name="Other ApS", domains=[])
        stranger = customers.create_contact(
            session, SYSTEM, email="boss@other.example", name="Boss", customer_id=other.id
        )
        stranger_id = stranger.id
        before = session.get(Ticket, made.ticket_id).contact_id  # type: ignore[union-attr]
    ui.log_in_as(["agents"])
    answer = ui.post(f"/tickets/{made.ticket_id}/edit", {"contact_id": str(stranger_id)})
    assert answer.status_code == 303
    assert f"contact {stranger_id} belongs to customer {other.id}" in _message(ui, answer)
    with runtime.db.transaction(write=False) as session:
        assert session.get(Ticket, made.ticket_id).contact_id == before  # type: ignore[union-attr]
