"""Mail that does not become a ticket is still kept, with its reason: ignored, quarantined,
failed, and re-run from the ledger."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hubdesk.audit.models import AuditEntry
from hubdesk.errors import ValidationFailed
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from tests.support.factories import stored_raw
from tests.support.mail import deeply_nested, raw_mail


def _row(runtime: Runtime, inbound_id: int | None) -> InboundMessage:
    assert inbound_id is not None
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        session.expunge(row)
        return row


def _ticket_count(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_auto_replies_are_ignored_and_never_reopen(runtime: Runtime) -> None:
    """An out-of-office reply to a resolved ticket is recorded as ignored; the ticket stays
    resolved and no ticket is created."""
    first = pipeline.ingest(runtime, raw_mail(message_id="<q@example.com>"), source="t")
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "resolved"})
    for headers, subject in (
        ({"Auto-Submitted": "auto-replied"}, "Re: help"),
        ({}, "Automatisk svar: Re: help"),
        ({"X-Autoreply": "yes"}, "Re: help"),
        ({"Precedence": "auto_reply"}, "Re: help"),
    ):
        outcome = pipeline.ingest(
            runtime,
            raw_mail(in_reply_to="<q@example.com>", subject=subject, headers=headers),
            source="t",
        )
        assert outcome.status == "ignored", (headers, subject)
        assert outcome.reason.startswith("auto_reply")
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        assert ticket.status == "resolved"
    assert _ticket_count(runtime) == 1


def test_bounce_is_ignored_and_linked_to_the_bounced_message(runtime: Runtime) -> None:
    """A delivery report never creates a ticket; it points at the ticket of the message it
    bounces when that message is known."""
    first = pipeline.ingest(runtime, raw_mail(message_id="<sent@example.com>"), source="t")
    report = (
        b"From: MAILER-DAEMON@mx.example.net\r\nTo: support@support.example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example.net>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\n\r\n"
        b"--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <sent@example.com>\r\nSubject: Help\r\n\r\n--r--\r\n"
    )
    outcome = pipeline.ingest(runtime, report, source="t")
    assert outcome.status == "ignored"
    assert "gone@customer.example" in outcome.reason
    assert outcome.ticket_id == first.ticket_id
    assert _ticket_count(runtime) == 1


def test_bulk_mail_makes_tickets_unless_told_to_ignore_it(runtime: Runtime) -> None:
    """List mail creates a ticket (flagged bulk); with TICKET_IGNORE_BULK it is ignored."""
    headers = {"List-Id": "<support.lists.example.com>", "Precedence": "list"}
    kept = pipeline.ingest(runtime, raw_mail(headers=headers), source="t")
    assert kept.status == "created"
    assert _row(runtime, kept.inbound_id).flags.get("bulk")
    strict = replace(
        runtime, settings=runtime.settings.model_copy(update={"ticket_ignore_bulk": True})
    )
    dropped = pipeline.ingest(strict, raw_mail(headers=headers, body="other"), source="t")
    assert dropped.status == "ignored"
    assert dropped.reason.startswith("bulk")


def test_over_budget_mail_is_quarantined_with_its_bytes_and_audited(runtime: Runtime) -> None:
    """T04: 60 nested parts are over the depth budget: quarantined, bytes kept, audited."""
    raw = deeply_nested(60)
    outcome = pipeline.ingest(runtime, raw, source="t")
    assert outcome.status == "quarantined"
    assert outcome.reason.startswith("mime_depth")
    row = _row(runtime, outcome.inbound_id)
    assert stored_raw(runtime, row.id) == raw
    with runtime.db.transaction(write=False) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.entity_type == "inbound_message", AuditEntry.entity_id == row.id
            )
        ).all()
    assert actions == ["quarantined"]


def test_quarantined_mail_reprocesses_after_the_budget_is_raised(runtime: Runtime) -> None:
    """Re-running a quarantined message with a larger budget makes its ticket."""
    outcome = pipeline.ingest(runtime, deeply_nested(60), source="t")
    roomier = replace(runtime, settings=runtime.settings.model_copy(update={"mail_max_depth": 80}))
    with roomier.db.transaction() as session:
        inbound.request_reprocess(session, SYSTEM, outcome.inbound_id)  # type: ignore[arg-type]
    again = pipeline.process(roomier, outcome.inbound_id, reprocess=True)  # type: ignore[arg-type]
    assert again.status == "created"
    assert again.inbound_id == outcome.inbound_id


def test_processed_mail_is_not_processed_twice(runtime: Runtime) -> None:
    """Processing a row that already reached a final state changes nothing."""
    outcome = pipeline.ingest(runtime, raw_mail(), source="t")
    again = pipeline.process(runtime, outcome.inbound_id)  # type: ignore[arg-type]
    assert again.status == "created"
    assert again.ticket_id == outcome.ticket_id
    assert _ticket_count(runtime) == 1


def test_an_unexpected_failure_keeps_the_mail_and_records_the_error(runtime: Runtime) -> None:
    """A message whose bytes vanished from the store fails with the reason, keeps its row,
    and is retried by the worker's pending list until the attempts run out."""
    inbound_id = inbound.receive(runtime.db, runtime.blobs, raw_mail(), source="t")
    row = _row(runtime, inbound_id)
    runtime.blobs.delete(row.raw_sha256)
    outcome = pipeline.process(runtime, inbound_id)
    assert outcome.status == "failed"
    assert "missing" in outcome.reason
    failed = _row(runtime, inbound_id)
    assert failed.status == "failed"
    assert failed.attempts == 1
    assert failed.last_error is not None
    assert "StorageError" in failed.last_error
    with runtime.db.transaction(write=False) as session:
        assert inbound_id in inbound.pending_ids(session, older_than=timedelta(0), max_attempts=3)
        assert inbound_id not in inbound.pending_ids(
            session, older_than=timedelta(0), max_attempts=1
        )


def test_disabled_integration_refuses_mail(runtime: Runtime) -> None:
    """TICKET_EMAIL_INTEGRATION=false refuses with a message naming the setting."""
    off = replace(
        runtime, settings=runtime.settings.model_copy(update={"ticket_email_integration": False})
    )
    with pytest.raises(ValidationFailed, match="TICKET_EMAIL_INTEGRATION"):
        pipeline.ingest(off, raw_mail(), source="t")


def test_a_message_that_keeps_killing_the_process_is_quarantined(runtime: Runtime) -> None:
    """Each retry of a message left `received` is counted before it runs; when the process
    died on it more than HUBDESK_INGEST_MAX_ATTEMPTS times it is quarantined, bytes kept."""
    inbound_id = inbound.receive(runtime.db, runtime.blobs, raw_mail(), source="t")
    limit = runtime.settings.ingest_max_attempts
    for _ in range(limit):
        assert inbound.begin_retry(runtime.db, inbound_id, limit) is True
    assert inbound.begin_retry(runtime.db, inbound_id, limit) is False
    row = _row(runtime, inbound_id)
    assert row.status == "quarantined"
    assert row.reason.startswith("crashed:")
    assert runtime.blobs.exists(row.raw_sha256)
    again = pipeline.process(runtime, inbound_id, reprocess=True)
    assert again.status == "created"


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"", "empty input"),
        (random.Random(7).randbytes(300), "300 bytes without a header field"),
        (b"just some words\r\nand more words\r\n", "bytes without a header field"),
    ],
)
def test_junk_is_quarantined_never_a_ticket(runtime: Runtime, raw: bytes, detail: str) -> None:
    """An empty file or random bytes are kept with their reason, and make no ticket."""
    outcome = pipeline.ingest(runtime, raw, source="test")
    assert outcome.status == "quarantined"
    assert outcome.ticket_id is None
    assert outcome.reason.startswith("not_email: not an email")
    assert detail in outcome.reason
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        row = session.get(InboundMessage, outcome.inbound_id)
        assert row is not None
        assert inbound.raw_bytes(runtime.blobs, row) == raw


def test_mail_without_a_sender_waits_in_triage(runtime: Runtime) -> None:
    """Nobody could be answered: the mail is held for an agent instead of making a ticket."""
    raw = b"To: support@support.example.com\r\nSubject: help\r\n\r\nPlease call me.\r\n"
    outcome = pipeline.ingest(runtime, raw, source="test")
    assert outcome.ticket_id is None
    assert "triage: no readable sender (From missing)" in outcome.reason
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        row = session.get(InboundMessage, outcome.inbound_id)
        assert row is not None
        assert row.queue == "triage"
