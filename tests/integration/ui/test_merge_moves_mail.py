"""Merging B into A moves B's mail, files, people and contact to A, links both tickets both
ways on their pages, keeps the audit trail, and threads later replies to B's messages onto A
(through the real pipeline, on both databases)."""

from __future__ import annotations

from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.db.types import utcnow
from hubdesk.intake.pipeline import ingest
from hubdesk.outbox.replies import send_reply
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Attachment, EmailLog, Ticket, TicketParticipant
from hubdesk.users.permissions import SYSTEM
from tests.integration.ui.client import UiClient, flash_of, text_of
from tests.integration.ui.mails import File, message
from tests.integration.ui.scenario import printer_ticket


def _second_ticket(runtime: Runtime) -> tuple[int, str, str, str]:
    """Bob's ticket B with a file and an agent's reply by mail; (id, number, Bob's
    Message-ID, our reply's Message-ID)."""
    bob_id = "<bob-first@bob.example>"
    raw = message(
        subject="Scanner jams",
        sender="bob@bob.example",
        sender_name="Bob",
        text="The scanner jams on every page.",
        files=[File("scan-log.txt", "text/plain", b"jam at roller 2\n")],
        message_id=bob_id,
    )
    outcome = ingest(runtime, raw, source="test")
    assert outcome.status == "created", outcome
    assert outcome.ticket_id is not None
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket is not None
        _comment, row = send_reply(
            session,
            runtime,
            SYSTEM,
            ticket,
            body="Which scanner model is it?",
            cc=[],
            attachment_ids=[],
            status=None,
            now=utcnow(),
            source="web",
        )
        ours = row.message_id
        number = ticket.ticket_number
    return outcome.ticket_id, number, bob_id, ours


def test_merge_moves_mail_links_both_ways_and_threads_replies_onto_the_target(
    ui: UiClient, runtime: Runtime
) -> None:
    made = printer_ticket(runtime)
    b_id, b_number, bob_message_id, our_message_id = _second_ticket(runtime)
    with runtime.db.transaction(write=False) as session:
        b_mails = set(session.scalars(select(EmailLog.id).where(EmailLog.ticket_id == b_id)))
        b_files = set(session.scalars(select(Attachment.id).where(Attachment.ticket_id == b_id)))
    assert len(b_mails) == 2
    assert len(b_files) == 1

    ui.log_in_as(["agents"])
    answer = ui.post(f"/tickets/{b_id}/merge", {"target": made.ticket_number})
    assert flash_of(runtime, answer).text == f"{b_number} was merged into this ticket."

    with runtime.db.transaction(write=False) as session:
        on_a = set(session.scalars(select(EmailLog.id).where(EmailLog.ticket_id == made.ticket_id)))
        assert b_mails <= on_a
        assert session.scalars(select(EmailLog.id).where(EmailLog.ticket_id == b_id)).all() == []
        files_a = session.scalars(
            select(Attachment.id).where(Attachment.ticket_id == made.ticket_id)
        ).all()
        assert b_files <= set(files_a)
        people_a = set(
            session.scalars(
                select(TicketParticipant.email).where(TicketParticipant.ticket_id == made.ticket_id)
            )
        )
        assert "bob@bob.example" in people_a
        assert (
            session.scalars(
                select(TicketParticipant.email).where(TicketParticipant.ticket_id == b_id)
            ).all()
            == []
        )
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.ticket_id == made.ticket_id, AuditEntry.action == "merged_from"
            )
        ).one()
        moved = audit.changes["moved"][1]
        assert set(moved["emails"]) == b_mails
        assert set(moved["attachments"]) == b_files
        assert "bob@bob.example" in moved["participants"]

    page_a = ui.get(f"/tickets/{made.ticket_id}").text
    assert f'<a href="/tickets/{b_id}">{b_number}</a>' in page_a
    assert "The scanner jams on every page." in page_a
    assert "scan-log.txt" in page_a
    assert f"Merged into this ticket: {b_number}" in text_of(page_a)
    page_b = ui.get(f"/tickets/{b_id}").text
    assert f'<a href="/tickets/{made.ticket_id}">{made.ticket_number}</a>' in page_b

    for parent in (bob_message_id, our_message_id):
        reply = message(
            subject="Re: Scanner jams",
            sender="bob@bob.example",
            sender_name="Bob",
            text="It is the XR-200.",
            headers={"In-Reply-To": parent, "References": parent},
        )
        outcome = ingest(runtime, reply, source="test")
        assert outcome.status == "linked", outcome
        assert outcome.ticket_id == made.ticket_id
