"""A message is processed once: exact re-deliveries, re-routed copies, and missing ids."""

from __future__ import annotations

from sqlalchemy import func, select

from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.support.mail import deeply_nested, raw_mail


def _tickets(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def test_same_bytes_twice_is_one_ticket(runtime: Runtime) -> None:
    """The second delivery of identical bytes is recorded as a duplicate of the first."""
    raw = raw_mail(message_id="<same@example.com>")
    first = pipeline.ingest(runtime, raw, source="test")
    second = pipeline.ingest(runtime, raw, source="test")
    assert first.status == "created"
    assert second.status == "duplicate"
    assert second.ticket_id == first.ticket_id
    assert "inbound" in second.reason
    assert _tickets(runtime) == 1
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, second.inbound_id)
        assert row is not None
        assert row.duplicate_of_id == first.inbound_id


def test_same_message_other_transport_headers_is_duplicate(runtime: Runtime) -> None:
    """A copy that differs only in Received/Delivered-To headers is the same message."""
    raw = raw_mail(message_id="<routed@example.com>")
    copy = b"Received: from relay.example.net by mx; Mon, 15 Dec 2025 10:00:01 +0000\r\n"
    copy += b"Delivered-To: other@support.example.com\r\n" + raw
    assert pipeline.ingest(runtime, raw, source="a").status == "created"
    assert pipeline.ingest(runtime, copy, source="b").status == "duplicate"
    assert _tickets(runtime) == 1


def test_same_message_id_different_content_is_processed_and_flagged(runtime: Runtime) -> None:
    """Two different messages sharing a Message-ID both become tickets, the second flagged."""
    first = pipeline.ingest(
        runtime, raw_mail(message_id="<shared@example.com>", body="First text"), source="t"
    )
    second = pipeline.ingest(
        runtime,
        raw_mail(message_id="<shared@example.com>", body="Edited copy with a list footer"),
        source="t",
    )
    assert first.status == "created"
    assert second.status == "created"
    assert second.ticket_id != first.ticket_id
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, second.inbound_id)
        assert row is not None
        assert row.flags.get("message_id_collision") is True


def test_missing_message_id_gets_a_deterministic_synthetic_id(runtime: Runtime) -> None:
    """Without a Message-ID the same message re-delivered (even re-routed) is one ticket,
    under a synthetic id that is the same on every delivery."""
    raw = raw_mail(message_id="")
    rerouted = b"Received: from elsewhere by mx; Mon, 15 Dec 2025 10:00:09 +0000\r\n" + raw
    first = pipeline.ingest(runtime, raw, source="t")
    again = pipeline.ingest(runtime, raw, source="t")
    moved = pipeline.ingest(runtime, rerouted, source="t")
    assert first.status == "created"
    assert first.message_id is not None
    assert first.message_id.startswith("<")
    assert again.status == "duplicate"
    assert moved.status == "duplicate"
    assert _tickets(runtime) == 1


def test_duplicate_of_quarantined_bytes_is_a_duplicate(runtime: Runtime) -> None:
    """Exact bytes already in the ledger are a duplicate whatever their first outcome."""
    poison = deeply_nested(60)
    first = pipeline.ingest(runtime, poison, source="t")
    second = pipeline.ingest(runtime, poison, source="t")
    assert first.status == "quarantined"
    assert second.status == "duplicate"
