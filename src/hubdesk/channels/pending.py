"""Processing what the ledger holds but nobody is processing, and the daily raw-mail purge.

The receiver answers 250 as soon as a message is committed and hands its id to a
`ProcessingQueue`, which runs the pipeline off the SMTP session. Whatever that misses (the
process died, the database went away) is found again by `process_pending`: rows left
`received` for a while, and `failed` rows still below HUBDESK_INGEST_MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import timedelta
from typing import Final

from hubdesk.channels import oversized
from hubdesk.errors import DatabaseUnavailable, StorageUnavailable, ValidationFailed
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime

log = logging.getLogger(__name__)

# A row still `received` after this long was abandoned (or its processing is failing).
STUCK_AFTER: Final = timedelta(seconds=60)


def _enabled(runtime: Runtime) -> bool:
    settings = runtime.settings
    return settings.ticket_enabled and settings.ticket_email_integration


def process_one(runtime: Runtime, inbound_id: int) -> None:
    """Run one ledger row through the pipeline (a header-only oversized row is settled as
    quarantined instead: it is not the message)."""
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, inbound_id)
        header_only = row is not None and oversized.is_header_only(row.envelope)
    if header_only:
        oversized.quarantine(runtime, inbound_id)
    else:
        pipeline.process(runtime, inbound_id)


def process_pending(runtime: Runtime) -> int:
    """Process every stuck or retryable row; returns how many were tried."""
    if not _enabled(runtime):
        return 0
    with runtime.db.transaction(write=False) as session:
        ids = inbound.pending_ids(
            session, older_than=STUCK_AFTER, max_attempts=runtime.settings.ingest_max_attempts
        )
    for inbound_id in ids:
        if inbound.begin_retry(runtime.db, inbound_id, runtime.settings.ingest_max_attempts):
            process_one(runtime, inbound_id)
    return len(ids)


def purge_raw_mail(runtime: Runtime) -> int:
    """Forget raw bytes older than HUBDESK_RAW_RETENTION_DAYS (quarantined mail is kept),
    then collect the blobs a crash left without a row (T29)."""
    with runtime.db.transaction() as session:
        purged = inbound.purge_raw(
            session, runtime.blobs, older_than_days=runtime.settings.raw_retention_days
        )
    with runtime.db.transaction(write=False) as session:
        collected = inbound.collect_orphan_blobs(session, runtime.blobs)
    if collected:
        log.info("collected %d orphan blob(s) and leftover(s)", len(collected))
    return purged


class ProcessingQueue(threading.Thread):
    """Processes received ids in order, one at a time, until stopped (the message in hand is
    finished first; ids still queued stay `received` for `process_pending`)."""

    def __init__(self, runtime: Runtime, stop: threading.Event) -> None:
        super().__init__(name="processing", daemon=True)
        self.runtime, self.stop = runtime, stop
        self._ids: queue.Queue[int] = queue.Queue()

    def submit(self, inbound_id: int) -> None:
        self._ids.put(inbound_id)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                inbound_id = self._ids.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                process_one(self.runtime, inbound_id)
            except (DatabaseUnavailable, StorageUnavailable, ValidationFailed) as exc:
                log.warning("inbound %s left for later: %s", inbound_id, exc)
            except Exception:
                log.exception("inbound %s: processing failed", inbound_id)
