"""Quarantined mail by hand: headers decoded, dismiss and restore (audited), a ticket made
by hand that keeps the mail, once even when asked twice (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.errors import ValidationFailed
from hubdesk.inbound import quarantine
from hubdesk.inbound import service as inbound
from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Attachment, Ticket
from hubdesk.users.permissions import SYSTEM

NO_SENDER = (
    b"To: support@support.example.com\r\n"
    b"Subject: =?utf-8?q?K=C3=A6re_support=2C_hj=C3=A6lp?=\r\n"
    b"Message-ID: <nosender@example.com>\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Hej</p><script>window.__pwned = 1</script>" + b"x" * 3000 + b"\r\n"
)


def quarantined(runtime: Runtime, raw: bytes = NO_SENDER) -> int:
    """`raw` ingested under a 1 KiB size limit: quarantined for its size."""
    strict = Runtime.build(runtime.settings.model_copy(update={"mail_max_message_bytes": 1024}))
    try:
        outcome = ingest(strict, raw, source="test")
    finally:
        strict.close()
    assert outcome.status == "quarantined"
    assert outcome.inbound_id is not None
    return outcome.inbound_id


def test_headers_dismiss_restore_and_the_count(runtime: Runtime) -> None:
    inbound_id = quarantined(runtime)
    with runtime.db.transaction() as session:
        row = inbound.get(session, inbound_id)
        headers = dict(quarantine.readable_headers(inbound.raw_bytes(runtime.blobs, row)))
        assert headers["Subject"] == "Kære support, hjælp"
        assert "From" not in headers
        assert quarantine.count_waiting(session) == 1
        assert quarantine.dismiss(session, SYSTEM, row, "test mail") is True
        assert quarantine.dismiss(session, SYSTEM, row) is False
        assert quarantine.count_waiting(session) == 0
        hidden = quarantine.list_quarantined(session, SYSTEM, dismissed=True, limit=10, offset=0)
        assert [r.id for r in hidden.items] == [inbound_id]
        shown = quarantine.list_quarantined(session, SYSTEM, dismissed=False, limit=10, offset=0)
        assert shown.total == 0
        assert quarantine.restore(session, SYSTEM, row) is True
        assert quarantine.count_waiting(session) == 1
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "inbound_message")
        ).all()
        assert actions[-2:] == ["quarantine_dismissed", "quarantine_restored"]


def test_a_ticket_by_hand_needs_a_sender_and_is_made_once(runtime: Runtime) -> None:
    inbound_id = quarantined(runtime)
    with runtime.db.transaction() as session, pytest.raises(ValidationFailed, match="sender"):
        quarantine.make_ticket(session, runtime, SYSTEM, inbound_id)
    with runtime.db.transaction() as session:
        made = quarantine.make_ticket(
            session, runtime, SYSTEM, inbound_id, sender=" Kunde@Example.COM "
        )
        assert made.created
        ticket_id = made.ticket.id
    with runtime.db.transaction() as session:
        again = quarantine.make_ticket(session, runtime, SYSTEM, inbound_id, sender="x@y.dk")
        assert not again.created
        assert again.ticket.id == ticket_id
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.subject == "Kære support, hjælp"
        assert ticket.custom_fields["email_from"] == "kunde@example.com"
        files = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id)).all()
        assert [(f.filename, f.size) for f in files] == [
            (f"inbound-{inbound_id}.eml", len(NO_SENDER))
        ]
        row = inbound.get(session, inbound_id)
        assert (row.status, row.ticket_id) == ("processed", ticket_id)
        assert row.reason.startswith("manual_ticket:")
        assert session.scalars(select(Ticket)).all() == [ticket]
