"""The ticket page's reply composer (HTTP level): a reply is mailed to the ticket's contact
through the outbox, with Cc, files and a status; its delivery shows in the timeline; a
ticket without a contact gets a public comment only."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import select

from hubdesk.outbox.models import AddressFlag, OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Attachment, Comment, Ticket
from hubdesk.web.app import create_app
from tests.integration.ui.client import UiClient, flash_of, text_of
from tests.integration.ui.scenario import printer_ticket
from tests.support import factories


def _outbox(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.db.transaction(write=False) as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


def test_a_reply_is_queued_to_the_contact_and_its_delivery_shows(
    ui: UiClient, runtime: Runtime
) -> None:
    """The composer names the recipient and offers Cc, the ticket's files and the status to
    set (waiting for the customer by default). Sending queues an outgoing message with the
    file, records a web comment, sets the status, and says the mail waits in the outbox as no
    SMTP server is set; the timeline shows it as outgoing mail waiting to be sent. To a
    bouncing address the mail is held, and the message says so."""
    made = printer_ticket(runtime)
    with runtime.db.transaction(write=False) as session:
        log_file = session.scalars(
            select(Attachment).where(Attachment.filename == "printer-log.txt")
        ).one()
        file_id = log_file.id
    ui.log_in_as(["agents"])
    base = f"/tickets/{made.ticket_id}"
    page = ui.get(base).text
    assert "To: Alice Customer <alice@acme.example>" in text_of(page)
    assert f'action="{base}/reply"' in page
    assert f'name="attachment_ids" value="{file_id}"' in page
    assert '<option value="waiting_customer" selected>' in page
    assert f'action="{base}/comment"' not in page

    sent = ui.post(
        f"{base}/reply",
        {
            "body": "A technician comes at 10.",
            "cc": "boss@acme.example, ",
            "attachment_ids": [str(file_id)],
            "status": "waiting_customer",
        },
    )
    assert sent.status_code == 303
    shown = flash_of(runtime, sent)
    assert shown.kind == "ok"
    assert shown.text == (
        "Reply queued for alice@acme.example, boss@acme.example. No mail server is set up "
        "(SMTP_HOST), so it waits in the outbox until one is."
    )
    [row] = _outbox(runtime)
    assert (row.kind, row.status, row.recipients) == (
        "agent_reply",
        "pending",
        ["alice@acme.example", "boss@acme.example"],
    )
    assert b"printer-log.txt" in row.raw
    assert row.subject.startswith(f"Re: [{made.ticket_number}]")
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        assert ticket.status == "waiting_customer"
        comment = session.scalars(select(Comment).where(Comment.body.like("A technician%"))).one()
        assert (comment.source, comment.is_internal, comment.email_log_id) == (
            "web",
            False,
            row.email_log_id,
        )
    timeline = ui.get(base).text
    assert f'id="email-{row.email_log_id}"' in timeline
    assert 'class="badge outbox-pending">Waiting to be sent<' in timeline

    with runtime.db.transaction() as session:
        session.add(AddressFlag(email="alice@acme.example", bouncing=True, bounce_count=1))
    held = ui.post(f"{base}/reply", {"body": "Did it work?", "status": ""})
    assert flash_of(runtime, held).kind == "error"
    assert "is held: mail to that address bounced before" in flash_of(runtime, held).text
    assert _outbox(runtime)[-1].status == "held"
    page = ui.get(base).text
    assert 'class="badge outbox-held">Held<' in page
    assert "bounced before; clear the address flag" in page

    with_smtp = replace(
        runtime, settings=runtime.settings.model_copy(update={"smtp_host": "smtp.example"})
    )
    with TestClient(create_app(with_smtp.settings, runtime=with_smtp)) as client:
        other = UiClient(client=client, runtime=with_smtp)
        other.log_in_as(["agents"])
        with runtime.db.transaction() as session:
            session.execute(AddressFlag.__table__.delete())
        queued = other.post(f"{base}/reply", {"body": "On its way."})
        assert flash_of(runtime, queued).text == (
            "Reply queued for alice@acme.example; it is sent in a moment."
        )


def test_a_ticket_without_a_contact_offers_only_a_public_comment(
    ui: UiClient, runtime: Runtime
) -> None:
    """Without a contact the page says no mail can be sent and offers a public comment; a
    forged reply post comes back with the service's reason, its text in the comment box, and
    queues nothing."""
    with runtime.db.transaction() as session:
        ticket = factories.ticket(session, "Phoned in")
        ticket_id = ticket.id
    ui.log_in_as(["agents"])
    base = f"/tickets/{ticket_id}"
    page = ui.get(base).text
    assert "This ticket has no contact, so no mail can be sent." in page
    assert f'action="{base}/comment"' in page
    assert f'action="{base}/reply"' not in page
    refused = ui.post(f"{base}/reply", {"body": "Hello?"})
    assert refused.status_code == 422
    assert "has no contact to reply to; set its contact first" in text_of(refused.text)
    assert ">Hello?</textarea>" in refused.text
    assert _outbox(runtime) == []
    added = ui.post(f"{base}/comment", {"body": "Called back, all fine."})
    assert flash_of(runtime, added).text == "Public comment added to the ticket."
    with runtime.db.transaction(write=False) as session:
        comment = session.scalars(select(Comment).where(Comment.ticket_id == ticket_id)).one()
        assert (comment.body, comment.is_internal, comment.email_log_id) == (
            "Called back, all fine.",
            False,
            None,
        )
    assert _outbox(runtime) == []
