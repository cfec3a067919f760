"""The worker's catch-up jobs: ledger rows nobody is processing are processed (rows left
`received` by a crash, failed rows below the retry limit), never a header-only row as if it
were the message; raw mail past its retention is purged."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hubdesk.channels import oversized, pending
from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.errors import StorageUnavailable
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.runtime import Runtime
from hubdesk.storage.blobs import BlobStore
from hubdesk.tickets.models import Attachment
from tests.integration.channels.helpers import count_tickets, ledger
from tests.support.mail import raw_mail


def _received_two_minutes_ago(runtime: Runtime, subject: str) -> int:
    """A row received over LMTP two minutes ago and never processed (its process died)."""
    return inbound.receive(
        runtime.db,
        runtime.blobs,
        raw_mail(subject=subject),
        source="lmtp",
        received_at=utcnow() - timedelta(minutes=2),
    )


def test_rows_left_received_are_processed_once_they_are_stale(
    channel_settings: Settings,
) -> None:
    """A row received a minute ago and never processed (its process died) becomes a ticket;
    a fresh one is left to the process that received it; the next run finds nothing."""
    runtime = Runtime.build(channel_settings)
    try:
        stale = _received_two_minutes_ago(runtime, "Left behind")
        fresh = inbound.receive(runtime.db, runtime.blobs, raw_mail(), source="lmtp")
        assert pending.process_pending(runtime) == 1
        statuses = {row.id: row.status for row in ledger(runtime)}
        assert statuses == {stale: "processed", fresh: "received"}
        assert pending.process_pending(runtime) == 0
    finally:
        runtime.close()


def test_failed_rows_are_retried_up_to_the_limit(channel_settings: Settings) -> None:
    """A failed row below HUBDESK_INGEST_MAX_ATTEMPTS is retried; at the limit it is left
    for an admin (no retry loop)."""
    runtime = Runtime.build(channel_settings.model_copy(update={"ingest_max_attempts": 2}))
    try:
        retry = inbound.receive(runtime.db, runtime.blobs, raw_mail(subject="Retry"), source="x")
        given_up = inbound.receive(runtime.db, runtime.blobs, raw_mail(), source="x")
        with runtime.db.transaction() as session:
            for row_id, attempts in ((retry, 1), (given_up, 2)):
                session.execute(
                    update(InboundMessage)
                    .where(InboundMessage.id == row_id)
                    .values(status="failed", attempts=attempts, reason="failed: boom")
                )
        assert pending.process_pending(runtime) == 1
        statuses = {row.id: row.status for row in ledger(runtime)}
        assert statuses == {retry: "processed", given_up: "failed"}
    finally:
        runtime.close()


def test_a_header_only_row_is_quarantined_never_made_a_ticket(
    channel_settings: Settings,
) -> None:
    """An oversized IMAP message's header block, left `received` by a crash between its two
    commits, is settled as quarantined (message_size) instead of becoming an empty ticket."""
    runtime = Runtime.build(channel_settings)
    try:
        header = raw_mail(subject="Huge").split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        inbound.receive(
            runtime.db,
            runtime.blobs,
            header,
            source="imaps://u@host:993/INBOX;UIDVALIDITY=1/;UID=1",
            envelope={"size": 30_000_000, oversized.TRUNCATED: oversized.HEADER_ONLY},
            received_at=utcnow() - timedelta(minutes=2),
        )
        assert pending.process_pending(runtime) == 1
        [row] = ledger(runtime)
        assert row.status == "quarantined"
        assert row.reason.startswith("message_size: 30000000 bytes")
        assert row.subject == "Huge"
        assert count_tickets(runtime) == 0
    finally:
        runtime.close()


def test_the_purge_job_forgets_old_raw_mail(channel_settings: Settings) -> None:
    """Raw bytes of mail processed longer ago than HUBDESK_RAW_RETENTION_DAYS are purged."""
    runtime = Runtime.build(channel_settings)
    try:
        inbound_id = inbound.receive(runtime.db, runtime.blobs, raw_mail(), source="lmtp")
        pending.process_one(runtime, inbound_id)
        with runtime.db.transaction() as session:
            session.execute(
                update(InboundMessage).values(processed_at=utcnow() - timedelta(days=400))
            )
        assert pending.purge_raw_mail(runtime) == 1
        assert ledger(runtime)[0].raw_purged_at is not None
    finally:
        runtime.close()


def test_the_purge_job_collects_blobs_a_crash_left_without_a_row(
    channel_settings: Settings,
) -> None:
    """T29's clean-up: a blob written by a process killed before its commit (no row names
    it) and a temporary file of a half-written blob go once they are over an hour old; the
    raw bytes and attachments rows name, and a young orphan (its row may be committing),
    stay."""
    runtime = Runtime.build(channel_settings)
    try:
        blobs = runtime.blobs
        assert isinstance(blobs, BlobStore)
        # larger than a row keeps itself (HUBDESK_INLINE_MAX_BYTES): the file is a blob
        report = b"%PDF-1.4 kept" + b" " * runtime.settings.inline_max_bytes
        attached = raw_mail(attachments=[("report.pdf", "application/pdf", report)])
        inbound_id = inbound.receive(runtime.db, blobs, attached, source="lmtp")
        pending.process_one(runtime, inbound_id)
        [row] = ledger(runtime)
        old_orphan = blobs.put(b"written, then SIGKILL before the commit")
        young_orphan = blobs.put(b"written a moment ago; the commit is on its way")
        half = blobs.path_for(old_orphan).parent / ".tmp-killed-mid-write"
        half.write_bytes(b"the first half of a bl")
        two_hours_ago = time.time() - 7200
        for path in (blobs.path_for(old_orphan), half, *blobs.root.glob("??/??/*")):
            if path.name != young_orphan:
                os.utime(path, (two_hours_ago, two_hours_ago))

        pending.purge_raw_mail(runtime)

        kept = set(blobs.all_digests())
        assert old_orphan not in kept
        assert not half.exists()
        assert young_orphan in kept
        assert row.raw_sha256 in kept
        with runtime.db.transaction(write=False) as session:
            in_store = select(Attachment.sha256).where(Attachment.data_inline.is_(None))
            attachment_digests = set(session.scalars(in_store))
        assert attachment_digests
        assert attachment_digests <= kept
    finally:
        runtime.close()


def test_an_object_store_outage_spends_no_attempt(
    channel_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the store cannot be read, a stuck row is tried and put back as it was, however
    often the job runs: it is not quarantined as "crashed"; once the store is back it is
    processed."""
    runtime = Runtime.build(channel_settings)
    try:
        stuck = _received_two_minutes_ago(runtime, "Waiting out the outage")
        readable = runtime.blobs.read

        def down(_digest: str) -> bytes:
            raise StorageUnavailable("the object store cannot read it now; try again later")

        monkeypatch.setattr(runtime.blobs, "read", down)
        for _ in range(runtime.settings.ingest_max_attempts + 2):
            with pytest.raises(StorageUnavailable):
                pending.process_pending(runtime)
        assert [(row.status, row.attempts) for row in ledger(runtime)] == [("received", 0)]
        monkeypatch.setattr(runtime.blobs, "read", readable)
        assert pending.process_pending(runtime) == 1
        assert [row.status for row in ledger(runtime)] == ["processed"]
        assert stuck == ledger(runtime)[0].id
    finally:
        runtime.close()
