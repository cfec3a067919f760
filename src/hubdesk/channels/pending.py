"""Processing what the ledger holds but nobody is processing, and the daily raw-mail purge.

The receiver answers 250 as soon as a message is committed and wakes the `ProcessingQueue`,
which claims received rows in batches (`drain`; several workers share the work, see
`inbound.claim_received`) and runs them through the bulk path's batch runner off the SMTP
session. Whatever that misses (the
process died, the database went away) is found again by `process_pending`: rows left
`received` for a while, and `failed` rows still below HUBDESK_INGEST_MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Final

from hubdesk.channels import oversized
from hubdesk.errors import DatabaseUnavailable, StorageUnavailable, ValidationFailed
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import bulk, pipeline
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
            try:
                process_one(runtime, inbound_id)
            except StorageUnavailable:
                # The message never ran: an outage of the object store is not a crash of
                # this message, so the attempt is given back (else the backlog of an
                # outage would be quarantined as "crashed", one row per run).
                inbound.give_back_attempt(runtime.db, inbound_id)
                raise
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


CLAIM_BATCH: Final = {"sqlite": 50, "postgresql": 150}
"""Received rows one worker claims and processes in one transaction, by database. A batch's
ticket numbers and new contacts are written apart from it on PostgreSQL (`hubdesk.db.quick`),
so other workers do not wait for its commit on them, and the tickets it answers are locked
only by batches that name them. 50 against 20: one worker 1.25-1.34 times as fast, two
1.02-1.20 times (`bench/README.md`, "Issue 9, 2026-12-05 night"); on PostgreSQL 150 against
50: one worker 1.15 times as fast, two 1.16 times ("Issue 9, 2026-12-06, seventh session").
SQLite keeps 50: there a batch holds the whole database's write lock (about 0.2 s for 50),
which a receiver committing a delivery waits for."""
HAND_BACK_SECONDS: Final = 1.0
"""How long a drain with nothing left to claim keeps trying the rows its batches handed back
before it runs them in a transaction that waits for their tickets (another worker's batch
of 150 runs for 0.2-0.5 s)."""
HAND_BACK_PAUSE: Final = 0.05
POLL_SECONDS: Final = 1.0
"""How often a worker looks for received mail when no delivery of its own told it."""


def claim_batch(runtime: Runtime) -> int:
    """How many received rows a worker of `runtime`'s database claims at once."""
    return CLAIM_BATCH.get(runtime.db.dialect, CLAIM_BATCH["sqlite"])


def drain(runtime: Runtime, stop: threading.Event | None = None) -> int:
    """Process received mail nobody has started, claimed batch by batch, until none is left
    (or `stop` is set); returns how many rows were claimed. Every worker runs this, on any
    machine: the claim (`inbound.claim_received`) gives each row to one of them.

    A row its batch cannot run yet is handed back (`bulk.process_claimed`): it names a
    ticket another worker's batch holds, or it answers mail that no ticket holds yet while
    older mail is being run by another worker's batch (most likely the mail it answers).
    It runs with the next claim's rows, or is handed back again; once nothing is left to
    claim, it is tried every `HAND_BACK_PAUSE` for up to `HAND_BACK_SECONDS`, and then run
    in a transaction that waits for the tickets it names."""
    if not _enabled(runtime):
        return 0
    claimed = 0
    carried: list[int] = []
    while stop is None or not stop.is_set():
        # Looked at first without a write transaction: on SQLite a writer takes the whole
        # database's write lock, and every worker looks every second.
        with runtime.db.transaction(write=False) as session:
            if not inbound.has_unclaimed(session):
                break
        with runtime.db.transaction() as session:
            rows = inbound.claim_received(session, claim_batch(runtime))
        if not rows:
            break
        claimed += len(rows)
        header_only = [row_id for row_id, envelope in rows if oversized.is_header_only(envelope)]
        for inbound_id in header_only:
            oversized.quarantine(runtime, inbound_id)
        ids = sorted(carried + [row_id for row_id, _e in rows if row_id not in header_only])
        _done, carried = bulk.process_claimed(runtime, ids, hand_back=set(ids))
    # claimed by this worker: run now, not left for the pending job
    deadline = time.monotonic() + HAND_BACK_SECONDS
    while carried and time.monotonic() < deadline and (stop is None or not stop.is_set()):
        time.sleep(HAND_BACK_PAUSE)
        _done, carried = bulk.process_claimed(runtime, carried, hand_back=set(carried))
    if carried:
        bulk.process_claimed(runtime, carried)
    return claimed


class ProcessingQueue(threading.Thread):
    """The worker's processing of received mail: drains the ledger (`drain`) whenever a
    delivery of this process was committed, and at least every POLL_SECONDS for mail that
    other processes received (a worker on another machine, `hubdesk lmtp`). A batch in hand
    is finished at shutdown; rows not yet claimed stay `received` for the next worker."""

    def __init__(self, runtime: Runtime, stop: threading.Event) -> None:
        super().__init__(name="processing", daemon=True)
        self.runtime, self.stop = runtime, stop
        self._wake = threading.Event()

    def submit(self, inbound_id: int) -> None:
        """A row of `inbound_id` was committed: drain now (it is claimed with the others)."""
        self._wake.set()

    def run(self) -> None:
        while not self.stop.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            try:
                drain(self.runtime, self.stop)
            except (DatabaseUnavailable, StorageUnavailable, ValidationFailed) as exc:
                log.warning("received mail left for later: %s", exc)
                self.stop.wait(POLL_SECONDS)
            except Exception:
                log.exception("processing received mail failed")
                self.stop.wait(POLL_SECONDS)
