"""The triage page (HTTP level): mail waiting for a person and mail held as spam, opened as
tickets, added to tickets, dismissed and released; read-only users look but do not act."""

from __future__ import annotations

from sqlalchemy import func, select

from hubdesk.audit.models import AuditEntry
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import EmailLog, Ticket
from tests.integration.ui.client import UiClient, flash_of, text_of
from tests.integration.ui.mails import message
from tests.integration.ui.scenario import engine_on, failing_workflow, printer_ticket, spam_mail


def _held(runtime: Runtime, subject: str) -> int:
    """Another mail the failing workflow leaves in triage; its id."""
    outcome = ingest(
        engine_on(runtime),
        message(subject=subject, sender="carol@carols.example", sender_name="Carol <Boss>"),
        source="test",
    )
    assert outcome.inbound_id is not None
    return outcome.inbound_id


def _row(runtime: Runtime, inbound_id: int) -> tuple[str, str | None, int | None, str]:
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        return row.status, row.queue, row.ticket_id, row.reason


def test_agents_open_link_dismiss_and_release_held_mail(ui: UiClient, runtime: Runtime) -> None:
    """The dashboard counts held mail and links to triage. Each waiting mail shows its sender,
    subject, reason, time and class; an agent opens a ticket from one, adds one to an
    existing ticket by number (a wrong number comes back with the reason), dismisses one,
    and releases spam, which opens its ticket. Every decision is audited."""
    made = printer_ticket(runtime)
    _workflow_id, first = failing_workflow(runtime)
    second = _held(runtime, "Second <question>")
    third = _held(runtime, "Third question")
    spam = spam_mail(runtime)
    ui.log_in_as(["agents"])
    dashboard = ui.get("/").text
    assert '<a href="/triage">Triage</a> <span class="count">3</span>' in dashboard
    assert '<a href="/triage?kind=spam">Held as spam</a> <span class="count">1</span>' in dashboard

    waiting = ui.get("/triage").text
    shown = text_of(waiting)
    assert "The scanner needs help" in shown
    assert "Second <question>" in shown
    assert "Second &lt;question&gt;" in waiting
    assert "bob@bobs.example" in shown
    assert "triage: workflow" in shown
    assert "support_request (0.80)" in shown
    assert "Waiting 3" in shown
    assert "Spam 1" in shown
    for inbound_id in (first, second, third):
        assert f'action="/triage/{inbound_id}"' in waiting
        assert f'<label for="link-{inbound_id}">Add to ticket number</label>' in waiting

    opened = ui.post(f"/triage/{first}", {"action": "create_ticket", "back": "/triage"})
    assert opened.headers["location"] == "/triage"
    assert flash_of(runtime, opened).text.startswith("Ticket TKT-")
    assert flash_of(runtime, opened).text.endswith(" was opened from the mail.")
    status, queue, ticket_id, _reason = _row(runtime, first)
    assert (status, queue) == ("processed", None)
    assert ticket_id is not None

    wrong = ui.post(f"/triage/{second}", {"action": "link", "ticket_number": "TKT-19990101-001"})
    assert flash_of(runtime, wrong).kind == "error"
    assert flash_of(runtime, wrong).text == "ticket TKT-19990101-001 does not exist"
    assert _row(runtime, second)[1] == "triage"
    linked = ui.post(
        f"/triage/{second}", {"action": "link", "ticket_number": f" {made.ticket_number.lower()}"}
    )
    assert flash_of(runtime, linked).text == f"The mail was added to {made.ticket_number}."
    assert _row(runtime, second)[2] == made.ticket_id
    with runtime.db.transaction(write=False) as session:
        subjects = session.scalars(
            select(EmailLog.email_subject).where(EmailLog.ticket_id == made.ticket_id)
        ).all()
        assert "Second <question>" in subjects

    dismissed = ui.post(f"/triage/{third}", {"action": "dismiss"})
    assert flash_of(runtime, dismissed).text == "The mail was dismissed."
    status, queue, ticket_id, reason = _row(runtime, third)
    assert (status, queue, ticket_id) == ("ignored", None, None)
    assert reason.startswith("dismissed by agent-")

    spam_page = ui.get("/triage?kind=spam").text
    assert "Cheap watches" in spam_page
    assert "Release and open a ticket" in spam_page
    released = ui.post(f"/triage/{spam}", {"action": "create_ticket", "back": "/triage?kind=spam"})
    assert released.headers["location"] == "/triage?kind=spam"
    assert flash_of(runtime, released).text.endswith(" was opened from the mail.")
    assert _row(runtime, spam)[0] == "processed"
    assert "Nothing is waiting here." in ui.get("/triage").text
    assert "Nothing is waiting here." in ui.get("/triage?kind=spam").text
    with runtime.db.transaction(write=False) as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(
                AuditEntry.entity_type == "inbound_message",
                AuditEntry.action.startswith("triage_", autoescape=True),
            )
            .order_by(AuditEntry.id)
        ).all()
        assert actions == [
            "triage_create_ticket",
            "triage_link",
            "triage_dismiss",
            "triage_create_ticket",
        ]
        assert session.scalar(select(func.count()).select_from(Ticket)) == 3


def test_readonly_users_see_triage_but_cannot_decide(ui: UiClient, runtime: Runtime) -> None:
    """A read-only user sees the held mail without any action form, and every decision they
    post is refused (403) and changes nothing."""
    _workflow_id, held = failing_workflow(runtime)
    spam = spam_mail(runtime)
    ui.log_in_as(["readonly"])
    page = ui.get("/triage").text
    assert "The scanner needs help" in page
    assert 'action="/triage/' not in page
    assert 'action="/triage/' not in ui.get("/triage?kind=spam").text
    for inbound_id, action in ((held, "create_ticket"), (held, "dismiss"), (spam, "create_ticket")):
        refused = ui.post(f"/triage/{inbound_id}", {"action": action})
        assert refused.status_code == 403
    assert _row(runtime, held)[:2] == ("processed", "triage")
    assert _row(runtime, spam)[0] == "ignored"
