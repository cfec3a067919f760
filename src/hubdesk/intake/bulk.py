"""The bulk paths' batch runner: many messages per transaction, one durability point a batch.

`hubdesk ingest` of folders, Maildirs and mbox files and `hubdesk reprocess --quarantined /
--failed` run their messages through the same pipeline steps as one delivery
(`pipeline._process`), but in batches with group commit:

- a batch is one database transaction. It first runs without a savepoint per message (two
  statements and a flush fewer per message): failures are rare, and when a message does
  fail the whole attempt is rolled back and the batch runs again with a SAVEPOINT per
  message, so that message is rolled back to its savepoint and marked `failed` (raw bytes
  kept, the raw key claimed, an audit row) while the rest of the batch commits;
- the batch's raw bytes and attachments are written to the blob store without waiting for
  the disk, and made durable together (`BlobStore.sync_batch`, by a thread of its own while
  the batch's last rows are written) before the commit;
- outcomes are handed to the caller only after the commit, so nothing is acknowledged (a
  line printed, exit 0) before its bytes and rows are durable.

A batch closes at whichever bound comes first: `HUBDESK_INGEST_BATCH_MESSAGES` messages,
`HUBDESK_INGEST_BATCH_BYTES` bytes of raw mail (a larger message is a batch of its own) or
`HUBDESK_INGEST_BATCH_SECONDS` of processing. A crash at any point loses nothing (the batch
that was open never committed, its sources are unchanged) and duplicates nothing (a re-run
finds what earlier batches committed by its raw dedupe key). A database outage rolls back
the open batch and propagates as `DatabaseUnavailable`, an object-store outage (the batch's
blobs are uploaded at its durability point) as `StorageUnavailable`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import traceback
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, lazyload
from sqlalchemy.orm.exc import StaleDataError

from hubdesk.config import Settings
from hubdesk.customers.models import Contact
from hubdesk.db import deferred, ids, inserts, reads, updates
from hubdesk.db.checkpoint import Checkpoints
from hubdesk.db.uow import is_transient
from hubdesk.errors import (
    Conflict,
    DatabaseUnavailable,
    NotFound,
    StorageUnavailable,
    ValidationFailed,
)
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import dedupe, lookahead, parse_ahead, pipeline, prologue
from hubdesk.intake.sources import Source
from hubdesk.intake.types import Outcome
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.sla.models import SlaClock
from hubdesk.storage.blobs import keep
from hubdesk.tickets.models import Comment, EmailLog, Ticket, TicketParticipant, TicketTag
from hubdesk.users.permissions import Principal

log = logging.getLogger(__name__)

# rows a batch numbers ahead (`db.ids`) are written in one flush with the ledger rows and
# acknowledgements that name them: the flush writes the tickets and email-log rows first
ids.order_after(InboundMessage, Ticket, InboundMessage.ticket_id)
ids.order_after(OutboxMessage, Ticket, OutboxMessage.ticket_id)
ids.order_after(OutboxMessage, EmailLog, OutboxMessage.email_log_id)
ids.order_after(Ticket, Contact, Ticket.contact_id)
ids.order_after(Comment, Contact, Comment.author_contact_id)


@dataclass(frozen=True)
class BatchLimits:
    """When a batch closes: whichever of the three bounds is reached first."""

    messages: int
    bytes: int
    seconds: float

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        messages: int | None = None,
        size: int | None = None,
        seconds: float | None = None,
    ) -> BatchLimits:
        return cls(
            messages=messages or settings.ingest_batch_messages,
            bytes=size or settings.ingest_batch_bytes,
            seconds=seconds or settings.ingest_batch_seconds,
        )


class SourceUnreadable(Exception):
    """A source could not be read; every message before it was committed and reported."""

    def __init__(self, source: Source, error: OSError) -> None:
        super().__init__(f"{source.label}: cannot read: {error}")
        self.source, self.error = source, error


def ingest_bulk(
    runtime: Runtime,
    sources: Iterable[Source],
    limits: BatchLimits | None = None,
    *,
    ledger_source: Callable[[str], str] = lambda label: label,
) -> Iterator[tuple[Source, Outcome]]:
    """Keep and process every source's message in batches; yields each (source, outcome)
    after the batch holding it committed. `ledger_source` names a source in the ledger."""
    pipeline.check_enabled(runtime.settings)
    limits = limits or BatchLimits.from_settings(runtime.settings)
    remaining = iter(sources)
    helpers = parse_ahead.ParseAhead(
        prologue.parse_options(runtime.settings),
        runtime.settings.ingest_parse_workers,
        chunk=_LEDGER_CHUNK,
    )
    queued: deque[tuple[list[tuple[Source, bytes]], parse_ahead.Ahead]] = deque()
    stopped: Exception | None = None
    """Why reading stopped early (a source that cannot be read, or the sources' own
    error): raised once everything read before it is committed and reported."""

    def read_next(*, first_here: bool) -> None:
        nonlocal stopped
        try:
            batch, stopped = _read_batch(remaining, limits)
        except Exception as exc:  # e.g. a later path that does not exist
            batch, stopped = [], exc
        if batch:
            queued.append((batch, helpers.start(_raws(batch), first_here=first_here)))

    with Checkpoints(runtime.db.engine) as checkpoints:
        try:
            read_next(first_here=True)
            while queued:
                batch, ahead = queued.popleft()
                if not queued and stopped is None:
                    # the next batch is read now, so that the helpers parse all of it (its
                    # first chunk too) while this one runs
                    read_next(first_here=False)
                done, carried = _ingest_batch(
                    runtime, batch, limits, ledger_source, ahead, checkpoints
                )
                checkpoints.committed()
                yield from done
                if carried:  # what the time bound left over: a batch of its own, next
                    queued.appendleft((carried, helpers.start(_raws(carried))))
            if stopped is not None:
                raise stopped
        finally:
            helpers.close()


def _raws(batch: list[tuple[Source, bytes]]) -> list[bytes]:
    return [raw for _source, raw in batch]


def reprocess_bulk(
    runtime: Runtime,
    inbound_ids: Sequence[int],
    actor: Principal,
    limits: BatchLimits | None = None,
) -> Iterator[tuple[int, Outcome]]:
    """Run ledger rows again (quarantined, failed or stuck) in batches; each request is
    audited as with one `reprocess`, and each outcome is yielded after its batch committed."""
    pipeline.check_enabled(runtime.settings)
    limits = limits or BatchLimits.from_settings(runtime.settings)
    position = 0
    while position < len(inbound_ids):
        chunk = inbound_ids[position : position + limits.messages]
        done = _reprocess_batch(runtime, chunk, actor, limits)
        position += len(done)
        yield from done


def process_claimed(
    runtime: Runtime, inbound_ids: Sequence[int], *, hand_back: Collection[int] = ()
) -> tuple[list[tuple[int, Outcome]], list[int]]:
    """Run ledger rows a worker claimed (`inbound.claim_received`) as one batch: one
    transaction (a savepoint per message once one failed), one durability point; the
    outcomes once committed, and the rows handed back unrun.

    On PostgreSQL a row naming a ticket another worker's batch holds, or answering mail that
    names no ticket yet while older mail is in another worker's open batch
    (`intake.ticket_locks.behind_others`), is handed back when it is in `hand_back`: the
    caller runs it later, by when that batch has most likely committed. The others such rows
    run in a second transaction once the first committed, which waits for their tickets.
    (Run so at once, the rows naming a held ticket were 85 of 1,350 rows of a worker of two,
    at 3.3 ms of CPU and 7.3 ms of wall time each against 2.1 and 3.0 in a batch,
    2026-12-06.) (The workers' processing of received mail, `hubdesk.channels.pending.drain`.)"""
    pipeline.check_enabled(runtime.settings)
    done, busy = _attempts(lambda mode: _process_claimed_once(runtime, inbound_ids, mode))
    later = [row_id for row_id in busy if row_id not in hand_back]
    if later:  # their tickets were another transaction's: now waited for, holding nothing
        done += _attempts(lambda mode: _process_claimed_once(runtime, later, mode, wait=True))[0]
    return done, [row_id for row_id in busy if row_id in hand_back]


def _process_claimed_once(
    runtime: Runtime, inbound_ids: Sequence[int], mode: _Mode, *, wait: bool = False
) -> tuple[list[tuple[int, Outcome]], list[int]]:
    """The rows run in one transaction, but (unless `wait`) not those naming a ticket
    another transaction holds (`intake.ticket_locks`): their ids are returned, to run next."""
    done: list[tuple[int, Outcome]] = []
    with _batch_store(runtime) as runtime, runtime.db.transaction() as session:
        _start(session, defer=mode.defer)
        rows = inbound.lock_many(session, inbound_ids, with_raw=True)
        busy = lookahead.prepare(session, runtime, rows, wait_for_tickets=wait)
        for row in rows:
            if row.id not in busy:
                done.append((row.id, _run_one(session, runtime, row, mode, reprocess=False)))
        _finish(session, runtime)
    return done, [row_id for row_id in inbound_ids if row_id in busy]


def _read_batch(
    remaining: Iterator[Source], limits: BatchLimits
) -> tuple[list[tuple[Source, bytes]], SourceUnreadable | None]:
    batch: list[tuple[Source, bytes]] = []
    size = 0
    while len(batch) < limits.messages and (not batch or size < limits.bytes):
        source = next(remaining, None)
        if source is None:
            break
        try:
            raw = source.read()
        except OSError as exc:
            return batch, SourceUnreadable(source, exc)
        batch.append((source, raw))
        size += len(raw)
    return batch, None


def _ingest_batch(
    runtime: Runtime,
    batch: list[tuple[Source, bytes]],
    limits: BatchLimits,
    ledger_source: Callable[[str], str],
    ahead: parse_ahead.Ahead,
    checkpoints: Checkpoints,
) -> tuple[list[tuple[Source, Outcome]], list[tuple[Source, bytes]]]:
    """One transaction: returns the committed outcomes and what the time bound left over."""
    return _attempts(
        lambda mode: _ingest_batch_once(
            runtime, batch, limits, ledger_source, ahead, checkpoints, mode
        )
    )


def _ingest_batch_once(
    runtime: Runtime,
    batch: list[tuple[Source, bytes]],
    limits: BatchLimits,
    ledger_source: Callable[[str], str],
    ahead: parse_ahead.Ahead,
    checkpoints: Checkpoints,
    mode: _Mode,
) -> tuple[list[tuple[Source, Outcome]], list[tuple[Source, bytes]]]:
    done: list[tuple[Source, Outcome]] = []
    deadline = time.monotonic() + limits.seconds
    with _batch_store(runtime) as runtime, runtime.db.transaction() as session:
        _start(session, defer=mode.defer)
        checkpoints.take_over(session)
        while len(done) < len(batch) and (not done or time.monotonic() <= deadline):
            chunk = batch[len(done) : len(done) + _LEDGER_CHUNK]
            _flush_messages(session)
            received = [
                _received(runtime, raw, ledger_source(source.label)) for source, raw in chunk
            ]
            rows = inbound.add_received_many(session, received)
            lookahead.prepare(session, runtime, rows, ahead.results(len(done), len(chunk)))
            for (source, _raw), row in zip(chunk, rows, strict=True):
                done.append((source, _run_one(session, runtime, row, mode, reprocess=False)))
        _finish(session, runtime)
    return done, batch[len(done) :]


def _received(runtime: Runtime, raw: bytes, source: str) -> inbound.Received:
    """A chunk's ledger row for `raw`: a small message's bytes kept in the row itself, a
    larger one's in the batch's blob store (`storage.blobs.keep`)."""
    kept = keep(runtime.blobs, raw, runtime.settings.inline_max_bytes)
    return inbound.Received(kept[0], len(raw), source, raw_inline=kept[1])


@contextlib.contextmanager
def _batch_store(runtime: Runtime) -> Iterator[Runtime]:
    """`runtime` with a blob store of this batch's own, in batch mode until the batch ends.

    Batch mode belongs to a store object, and a worker's threads (IMAP pollers, the pending
    job, this drain) share `runtime.blobs`: batching on it would take another thread's blobs
    into this batch, where they are not durable when that thread commits and acknowledges,
    and are dropped if this batch fails."""
    store = runtime.blobs.detached()
    store.begin_batch()
    try:
        yield dataclasses.replace(runtime, blobs=store)
    finally:
        store.end_batch()


T = TypeVar("T")

_LEDGER_CHUNK = 25
"""Ledger rows inserted with one statement; the time bound is checked between chunks."""


class _DeferredWriteFailed(Exception):
    """The batch's set-wise writes failed (not for lack of a database): the batch rolled
    back and runs again with every row written by its own message."""


class _MessageFailed(Exception):
    """A message failed in a batch run without savepoints: the batch rolled back and runs
    again with a savepoint per message."""


@dataclass(frozen=True)
class _Mode:
    isolate: bool
    """A savepoint per message (else a failure rolls the whole attempt back)."""
    defer: bool
    """Rows nothing reads back kept for set-wise writes at the batch's end."""


_MODES: Final = (_Mode(isolate=False, defer=True), _Mode(True, True), _Mode(True, False))
"""The attempts, in order: optimistic; a savepoint per message once a message failed; every
row by its own message once the set-wise writes failed."""


def _attempts(run: Callable[[_Mode], T]) -> T:
    """`run` in the first mode that completes (each attempt is a transaction of its own,
    rolled back whole when it gives way to the next)."""
    mode = _MODES[0]
    while True:
        try:
            return run(mode)
        except _MessageFailed as exc:  # raised by the optimistic attempt only
            log.info("a message of a batch failed (%s): the batch runs again in savepoints", exc)
            mode = _MODES[1]
        except _DeferredWriteFailed as exc:
            log.warning("a batch's set-wise writes failed (%s): it runs again row by row", exc)
            mode = _MODES[2]


def _start(session: Session, *, defer: bool) -> None:
    _hold_loaded_objects(session)
    event.listen(session, "do_orm_execute", _tickets_without_extras)
    if defer:
        deferred.enable(session)
        # new tickets, comments and email-log rows numbered at once and written with the
        # batch's next flush (a chunk's worth together), not one flush a message
        ids.enable(session)
        reads.track_pending(session)
        # the tickets the chunk's replies moved, written with one UPDATE (each row's
        # version still checked), not one a ticket
        updates.enable(session, Ticket, _REPLY_COLUMNS)
        # the ledger rows' fates likewise (the ORM collects each row's changes by attribute)
        updates.enable(session, InboundMessage, _FATE_COLUMNS)
        # the plain new rows with one executemany a table, beside the unit of work
        inserts.enable(session, *_PLAIN_ROWS)


_PLAIN_ROWS: Final = (
    Contact,
    Ticket,
    TicketTag,
    InboundMessage,
    EmailLog,
    Comment,
    SlaClock,
    TicketParticipant,
)
"""The new rows a mail makes, written by `db.inserts`: each key known before the INSERT.
A SQLite batch's ledger rows are among them, written with their fates
(`inbound.add_received_many`)."""


_FATE_COLUMNS: Final = (
    "status",
    "reason",
    "ticket_id",
    "duplicate_of_id",
    "processed_at",
    "flags",
    "queue",
    "message_id",
    "subject",
    "from_address",
    "classification",
    "classification_confidence",
    "last_error",
    "attempts",
)
"""What a message's run writes on its ledger row (`inbound.settle`, the dispositions)."""

_REPLY_COLUMNS: Final = ("updated_at", "first_response_at", "status", "resolved_at", "closed_at")
"""What a reply changes on its ticket (a comment's time, an agent's first response, the
ticket woken by the customer): plain columns that no computed column depends on."""


def _unavailable(exc: BaseException) -> bool:
    """Whether a batch without savepoints stops for the database (else it runs again with
    a savepoint per message). A row another worker wrote first (`StaleDataError`, transient
    elsewhere) is run again at once here, not left for later."""
    return is_transient(exc) and not isinstance(exc, StaleDataError)


def _flush_messages(session: Session) -> None:
    """Write the rows the batch's messages left pending (numbered ahead, `db.ids`) at a
    chunk's start or the batch's end. Without savepoints a message's rows stay pending past
    its run, so a row that fails here is not told apart from the others: the batch runs
    again with a savepoint per message, where each message writes its own at its end."""
    try:
        inserts.flush(session)
    except Exception as exc:
        if _unavailable(exc):
            raise DatabaseUnavailable(f"the database is unavailable: {exc}") from exc
        # a ticket another worker wrote since this batch read it (its version moved on):
        # the messages run again, each writing its own rows right after reading them
        raise _MessageFailed(f"writing a chunk's rows: {exc}") from exc


def _finish(session: Session, runtime: Runtime) -> None:
    """The batch's durability point: its kept rows written and its blobs on disk (or in the
    object store), the caller commits right after. The blobs are made durable by a thread
    of its own while this one writes the rows: each mostly waits, on the disk or the store
    (a sixth of a batch's time, `bench/README.md`). Both are done before this returns; a
    failure of either is raised, the rows' first. The session's new objects are no longer
    tracked after (`reads.untrack`): nothing reads them before the commit and the close."""
    with ThreadPoolExecutor(1, thread_name_prefix="hubdesk-blob-sync") as syncing:
        synced = syncing.submit(runtime.blobs.sync_batch)
        _flush_messages(session)
        try:
            deferred.flush(session)
        except Exception as exc:
            if is_transient(exc):
                raise
            raise _DeferredWriteFailed(str(exc)) from exc
    synced.result()
    reads.untrack(session)


def _reprocess_batch(
    runtime: Runtime, chunk: Sequence[int], actor: Principal, limits: BatchLimits
) -> list[tuple[int, Outcome]]:
    return _attempts(lambda mode: _reprocess_batch_once(runtime, chunk, actor, limits, mode))


def _reprocess_batch_once(
    runtime: Runtime, chunk: Sequence[int], actor: Principal, limits: BatchLimits, mode: _Mode
) -> list[tuple[int, Outcome]]:
    done: list[tuple[int, Outcome]] = []
    deadline = time.monotonic() + limits.seconds
    with _batch_store(runtime) as runtime, runtime.db.transaction() as session:
        _start(session, defer=mode.defer)
        for index, inbound_id in enumerate(chunk):
            if index and time.monotonic() > deadline:
                break
            _flush_messages(session)  # the last message's rows, before its savepoint
            position = deferred.mark(session)
            try:
                with session.begin_nested():
                    inbound.request_reprocess(session, actor, inbound_id)
            except (Conflict, NotFound) as exc:
                deferred.rollback_to(session, position)
                done.append((inbound_id, Outcome("failed", inbound_id, reason=str(exc))))
                continue
            row = inbound.lock(session, inbound_id)
            done.append((inbound_id, _run_one(session, runtime, row, mode, reprocess=True)))
        _finish(session, runtime)
    return done


def _hold_loaded_objects(session: Session) -> None:
    """Keep every object the batch loads or writes alive until the batch ends.

    The session's identity map holds objects weakly: a ticket, contact or user that one
    step loaded and the next step asks for again (`session.get`) has often been garbage
    collected in between and is read again. Within one batch (one transaction, bounded in
    size) holding them makes those repeats free.
    """
    held: list[object] = session.info.setdefault("hubdesk_held", [])

    def hold(_session: Session, instance: object) -> None:
        held.append(instance)

    event.listen(session, "loaded_as_persistent", hold)
    event.listen(session, "pending_to_persistent", hold)
    event.listen(session, "detached_to_persistent", hold)  # e.g. the ledger's rows


def _tickets_without_extras(state: ORMExecuteState) -> None:
    """A ticket the batch loads (the one a reply threads to) comes without its tags and
    snooze: the pipeline rarely reads them, and each was a query of its own (selectin);
    they are loaded when read."""
    if (
        state.is_select
        and not (state.is_relationship_load or state.is_column_load)
        and (mapper := state.bind_mapper) is not None
        and mapper.class_ is Ticket
    ):
        # the statement's primary entity (`bind_mapper`, a look-up; `all_mappers` walks the
        # statement's columns, 1 % of a batch's time as every ORM statement asks)
        state.statement = state.statement.options(lazyload("*"))


def _run_one(
    session: Session, runtime: Runtime, row: InboundMessage, mode: _Mode, *, reprocess: bool
) -> Outcome:
    """One message inside its own savepoint; a failure is rolled back and recorded (with
    the rows the message had kept for the batch's end). Without `mode.isolate` the message
    runs in the batch's transaction itself and a failure gives way to an isolating attempt."""
    if not mode.isolate:
        try:
            return pipeline.run_in(session, runtime, row, reprocess=reprocess)
        except (DatabaseUnavailable, StorageUnavailable):
            raise
        except Exception as exc:
            if _unavailable(exc):
                raise DatabaseUnavailable(f"the database is unavailable: {exc}") from exc
            raise _MessageFailed(str(exc)) from exc
    position = deferred.mark(session)
    try:
        with session.begin_nested():
            return pipeline.run_in(session, runtime, row, reprocess=reprocess)
    except (DatabaseUnavailable, StorageUnavailable):
        raise
    except ValidationFailed as exc:  # e.g. raw bytes purged: the row is left as it was
        deferred.rollback_to(session, position)
        session.expire(row)  # values held for the settling UPDATE were rolled back
        dedupe.give_back(session, row.id)
        return Outcome("failed", row.id, reason=str(exc))
    except Exception as exc:
        deferred.rollback_to(session, position)
        session.expire(row)
        if is_transient(exc):
            raise DatabaseUnavailable(f"the database is unavailable: {exc}") from exc
        error = "".join(traceback.format_exception(exc)).strip()
        raw_key = dedupe.raw_key(row.raw_sha256)
        with session.begin_nested():
            dedupe.give_back(session, row.id, keep=raw_key)
            inbound.mark_failed(session, row.id, error, raw_key)
        return Outcome("failed", row.id, reason=f"failed: {type(exc).__name__}: {exc}")
