"""The ledger's writes and reads: receiving raw bytes, recording a fate, purging old raw mail.

`receive` is the first thing that happens to a message: its bytes go to the blob store
(fsynced) and a `received` row is committed before any parsing, so every later failure can
be re-run from the exact bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached, undefer
from sqlalchemy.orm.attributes import set_committed_value

from hubdesk.audit import service as audit
from hubdesk.db import ids, inserts
from hubdesk.db.paging import Page, paginate
from hubdesk.db.rows import add, new
from hubdesk.db.types import utcnow
from hubdesk.db.uow import Database
from hubdesk.errors import Conflict, NotFound, ValidationFailed
from hubdesk.inbound.models import STATUSES, DedupeKey, InboundMessage
from hubdesk.storage.blobs import Blobs, read_kept
from hubdesk.tickets.models import Attachment
from hubdesk.users.permissions import INBOUND_REPROCESS, INBOUND_VIEW, SYSTEM, Principal


def receive(
    db: Database,
    blobs: Blobs,
    raw: bytes,
    *,
    source: str,
    envelope: Mapping[str, Any] | None = None,
    received_at: datetime | None = None,
    mailbox_id: int | None = None,
    claimed: bool = False,
) -> int:
    """Keep the raw bytes and commit a `received` ledger row; returns its id. `claimed`: the
    caller processes the row itself (`Received.claimed`)."""
    digest = blobs.put(raw)
    with db.transaction() as session:
        row = add_received(
            session,
            digest,
            len(raw),
            source=source,
            envelope=envelope,
            received_at=received_at,
            mailbox_id=mailbox_id,
        )
        if claimed:
            row.attempts = 1
        return row.id


def add_received(
    session: Session,
    raw_sha256: str,
    size: int,
    *,
    source: str,
    envelope: Mapping[str, Any] | None = None,
    received_at: datetime | None = None,
    mailbox_id: int | None = None,
) -> InboundMessage:
    """A `received` ledger row for bytes already in the blob store (flushed, not committed:
    the bulk path commits it with its batch, after the batch's blobs are durable)."""
    row = InboundMessage(
        source=source[:500],
        raw_sha256=raw_sha256,
        size=size,
        status="received",
        envelope=dict(envelope or {}),
        received_at=received_at or utcnow(),
        mailbox_id=mailbox_id,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Received:
    """One `received` ledger row to insert with its transport facts (the live receivers'
    group commit, `hubdesk.inbound.group_commit`)."""

    raw_sha256: str
    size: int
    source: str
    envelope: Mapping[str, Any] = field(default_factory=dict)
    mailbox_id: int | None = None
    received_at: datetime | None = None
    claimed: bool = False
    """The path that receives it processes it at once (HTTP, IMAP): the row starts with its
    one attempt counted, so the workers' drain (`claim_received`) leaves it alone; a process
    that dies before the end leaves it to the pending job (`pending_ids`)."""
    raw_inline: bytes | None = None
    """The raw bytes, kept in the row itself (`storage.blobs.keep`); None: in the blob store."""

    def with_raw(self, kept: tuple[str, bytes | None]) -> Received:
        """This row with where `storage.blobs.keep` kept its bytes."""
        return replace(self, raw_sha256=kept[0], raw_inline=kept[1])


def add_received_many(
    session: Session, received: Sequence[tuple[str, int, str] | Received]
) -> list[InboundMessage]:
    """`received` ledger rows for (raw_sha256, size, source) of bytes already in the blob
    store, or `Received` rows that may hold their bytes themselves (`storage.blobs.keep`), in one
    INSERT ... RETURNING (the live receivers' group commit), in the given order. A session
    that numbers its rows ahead (`db.ids`: the bulk path's batches) numbers these too and
    writes them without RETURNING (`_insert_numbered`)."""
    if not received:
        return []
    now = utcnow()
    given = [item if isinstance(item, Received) else Received(*item) for item in received]
    rows = [
        {
            "source": item.source[:500],
            "raw_sha256": item.raw_sha256,
            "size": item.size,
            "status": "received",
            "envelope": dict(item.envelope),
            "received_at": item.received_at or now,
            "mailbox_id": item.mailbox_id,
            "attempts": 1 if item.claimed else 0,
            "raw_inline": item.raw_inline,
        }
        for item in given
    ]
    numbered = ids.take(session, _LEDGER, len(rows))
    if numbered is not None:
        return _insert_numbered(session, rows, numbered)
    # One multi-row INSERT; RETURNING's order is not promised, so each row is matched back
    # to its input by everything it holds (equal inputs make equal rows: the lower id goes
    # first), so that two users' identical bytes in one commit each get their own row.
    # render_nulls: a row without inline bytes (None) would otherwise leave the column out
    # and split the rows into one INSERT per run of the same columns
    statement = insert(InboundMessage).returning(InboundMessage)
    returned = sorted(
        session.scalars(statement.execution_options(render_nulls=True), rows),
        key=lambda row: row.id,
    )
    by_input: dict[tuple[Any, ...], list[InboundMessage]] = {}
    for row in returned:
        key = _match_key(row.raw_sha256, row.size, row.source, row.envelope, row.mailbox_id)
        by_input.setdefault(key, []).append(row)
    matched = [
        by_input[_match_key(i.raw_sha256, i.size, i.source[:500], i.envelope, i.mailbox_id)].pop(0)
        for i in given
    ]
    for item, row in zip(given, matched, strict=True):
        # the bytes are in hand: reading them back (a deferred column) would be a query a row
        set_committed_value(row, "raw_inline", item.raw_inline)
    return matched


_LEDGER: Final = cast(Table, InboundMessage.__table__)

_UNSET: Final = {
    "reason": "",
    "message_id": None,
    "subject": None,
    "from_address": None,
    "ticket_id": None,
    "duplicate_of_id": None,
    "last_error": None,
    "processed_at": None,
    "raw_purged_at": None,
    "classification": None,
    "classification_confidence": None,
    "queue": None,
}
"""What a new `received` row holds in the columns `add_received_many` is not given (and
`flags`, a new empty dict a row): its mapped defaults."""


def _insert_numbered(
    session: Session, rows: list[dict[str, Any]], numbered: list[int]
) -> list[InboundMessage]:
    """The rows of a session that numbers its rows ahead (`db.ids`, the bulk path's
    batches), with one executemany INSERT and no RETURNING: each object is made from the
    values it was written with, every column among them, as if read back (no statement
    when read). The ORM's INSERT ... RETURNING compiled anew each call and built each
    object from the returned row: 7 % of a batch's time, 2026-12-05.

    A SQLite batch (`ids.sole_writer`) whose next flush writes new ledger rows set-wise
    (`db.inserts`) makes them new objects instead: the batch's next flush writes each
    with its fate, in one INSERT, where the rows written now were each updated again once
    their messages had run. Nothing refers to them before that flush: the chunk's dedupe
    claims are written at the batch's end (`intake.dedupe`), and a claim made on the
    connection at once writes the row first. On PostgreSQL the chunk's claims are inserted
    at its start and refer to the rows, so they are written now."""
    for values, row_id in zip(rows, numbered, strict=True):
        values.update(_UNSET, id=row_id, flags={})
    if len(rows[0]) != len(_LEDGER.columns):  # a column added to the model and not here
        unset = sorted(set(_LEDGER.columns.keys()) - set(rows[0]))
        raise TypeError(f"add_received_many gives no value for {', '.join(unset)}")
    written_later = ids.sole_writer(session) and inserts.writes(session, InboundMessage)
    if not written_later:
        session.execute(insert(_LEDGER), rows)
    made = []
    for values in rows:
        row = new(InboundMessage, **values)
        if not written_later:
            make_transient_to_detached(row)  # the written row, as if read from the database
        add(session, row)
        made.append(row)
    return made


def _match_key(
    raw_sha256: str, size: int, source: str, envelope: Any, mailbox_id: int | None
) -> tuple[Any, ...]:
    shown = json.dumps(envelope or {}, sort_keys=True, default=str)
    return (raw_sha256, size, source, shown, mailbox_id)


def get(session: Session, inbound_id: int) -> InboundMessage:
    row = session.get(InboundMessage, inbound_id)
    if row is None:
        raise NotFound(f"inbound message {inbound_id} not found")
    return row


def lock(session: Session, inbound_id: int) -> InboundMessage:
    """The row, locked for this transaction (SELECT ... FOR UPDATE on PostgreSQL)."""
    return lock_many(session, [inbound_id])[0]


def lock_many(
    session: Session, inbound_ids: Sequence[int], *, with_raw: bool = False
) -> list[InboundMessage]:
    """The rows, in the order asked, locked for this transaction with one statement (in id
    order, so that two transactions locking overlapping sets cannot deadlock). `with_raw`:
    the raw bytes kept in the rows are read by the same statement (a batch about to run
    them), not by a statement a row when first asked for."""
    statement = (
        select(InboundMessage)
        .where(InboundMessage.id.in_(inbound_ids))
        .order_by(InboundMessage.id)
        .with_for_update()
    )
    if with_raw:
        statement = statement.options(undefer(InboundMessage.raw_inline))
    found = {row.id: row for row in session.scalars(statement)}
    missing = [i for i in inbound_ids if i not in found]
    if missing:
        raise NotFound(f"inbound message {missing[0]} not found")
    return [found[i] for i in inbound_ids]


def raw_bytes(blobs: Blobs, row: InboundMessage) -> bytes:
    if row.raw_purged_at is not None:
        raise ValidationFailed(
            f"the raw bytes of inbound message {row.id} were purged on "
            f"{row.raw_purged_at:%Y-%m-%d} (HUBDESK_RAW_RETENTION_DAYS)"
        )
    corrupt = f"the raw bytes of inbound message {row.id} do not match their sha256 (corrupt)"
    return read_kept(blobs, row.raw_sha256, row.raw_inline, corrupt)


def raw_kept(blobs: Blobs, row: InboundMessage) -> bool:
    """Whether `row`'s raw bytes are still there to read (not purged, not lost)."""
    if row.raw_purged_at is not None:
        return False
    return row.raw_inline is not None or blobs.exists(row.raw_sha256)


def settle(
    row: InboundMessage,
    status: str,
    reason: str,
    *,
    ticket_id: int | None = None,
    duplicate_of_id: int | None = None,
    flags: Mapping[str, Any] | None = None,
) -> None:
    """Record the message's fate on its row (the caller's transaction commits it)."""
    if status not in STATUSES:
        raise ValueError(f"unknown inbound status {status!r}")
    row.status = status
    row.reason = reason[:4000]
    row.ticket_id = ticket_id
    row.duplicate_of_id = duplicate_of_id
    row.processed_at = utcnow()
    if flags:
        row.flags = {**(row.flags or {}), **flags}


def record_failure(db: Database, inbound_id: int, error: str, raw_key: str) -> None:
    """Mark a row failed after its processing transaction rolled back, in a transaction of
    its own; the raw key is claimed so a re-delivery of the same bytes is a duplicate."""
    with db.transaction() as session:
        mark_failed(session, inbound_id, error, raw_key)


def mark_failed(session: Session, inbound_id: int, error: str, raw_key: str) -> None:
    """`record_failure` inside the caller's transaction (the bulk path, after rolling the
    message back to its savepoint)."""
    row = lock(session, inbound_id)
    if row.status != "received" or row.attempts == 0:
        # A `received` row with an attempt had this start counted when it was claimed
        # (`claim_received`, `Received.claimed`) or retried (`begin_retry`).
        row.attempts += 1
    row.last_error = error[:8000]
    settle(row, "failed", f"failed: {error.splitlines()[0][:500] if error else 'error'}")
    if session.get(DedupeKey, raw_key) is None:
        session.add(DedupeKey(key=raw_key, inbound_id=inbound_id))
    audit.record(
        session,
        SYSTEM,
        entity_type="inbound_message",
        entity_id=inbound_id,
        action="failed",
        changes={"status": [None, "failed"], "attempts": [None, row.attempts]},
    )


def begin_retry(db: Database, inbound_id: int, max_attempts: int) -> bool:
    """Count a retry of a message left `received` before running it, in a transaction of its
    own: a message that kills the process outright (no exception to catch) would otherwise be
    retried on every restart. Past `max_attempts` it is quarantined instead (returns False)."""
    with db.transaction() as session:
        row = lock(session, inbound_id)
        if row.status != "received":
            return True
        row.attempts += 1
        if row.attempts <= max_attempts:
            return True
        settle(
            row,
            "quarantined",
            f"crashed: processing stopped without an answer {row.attempts - 1} times "
            "(the process died while handling this message); re-run it after a fix",
        )
        audit.record(
            session,
            SYSTEM,
            entity_type="inbound_message",
            entity_id=row.id,
            action="quarantined",
            changes={"status": ["received", "quarantined"], "reason": [None, "crashed"]},
        )
        return False


def give_back_attempt(db: Database, inbound_id: int) -> None:
    """Undo `begin_retry`'s count for a message that could not start (its store was
    unavailable), in a transaction of its own."""
    with db.transaction() as session:
        row = lock(session, inbound_id)
        if row.status == "received" and row.attempts > 0:
            row.attempts -= 1


REPROCESSABLE = frozenset({"received", "failed", "quarantined"})


def request_reprocess(session: Session, actor: Principal, inbound_id: int) -> InboundMessage:
    """Check that a message may be run again and record who asked (audit). A failed or
    quarantined message someone asks to run starts a new count of attempts (the automatic
    retries after a failure get HUBDESK_INGEST_MAX_ATTEMPTS again)."""
    actor.require(INBOUND_REPROCESS)
    row = get(session, inbound_id)
    if row.status not in REPROCESSABLE:
        raise Conflict(
            f"inbound message {inbound_id} is {row.status}; only quarantined, failed or "
            "received messages are re-processed"
        )
    if row.status != "received":  # a received row may be in a worker's claimed batch
        row.attempts = 0
    audit.record(
        session,
        actor,
        entity_type="inbound_message",
        entity_id=row.id,
        action="reprocess_requested",
        changes={"status": [row.status, None]},
    )
    return row


def list_messages(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    limit: int,
    offset: int,
) -> Page[Any]:
    principal.require(INBOUND_VIEW)
    statement = select(InboundMessage)
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed(
                f"status {status!r} is not valid; use one of {', '.join(STATUSES)}"
            )
        statement = statement.where(InboundMessage.status == status)
    statement = statement.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
    return paginate(session, statement, limit=limit, offset=offset)


def pending_ids(session: Session, *, older_than: timedelta, max_attempts: int) -> list[int]:
    """Rows left `received` by a process that died, and failed rows still worth a retry."""
    cutoff = utcnow() - older_than
    stuck = select(InboundMessage.id).where(
        InboundMessage.status == "received", InboundMessage.received_at < cutoff
    )
    retry = select(InboundMessage.id).where(
        InboundMessage.status == "failed", InboundMessage.attempts < max_attempts
    )
    return sorted(set(session.scalars(stuck)) | set(session.scalars(retry)))


def has_unclaimed(session: Session) -> bool:
    """Whether `claim_received` would find a row (read only; the claim decides)."""
    found = session.scalar(
        select(InboundMessage.id)
        .where(InboundMessage.status == "received", InboundMessage.attempts == 0)
        .limit(1)
    )
    return found is not None


def claim_received(session: Session, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """Claim up to `limit` rows nobody has started (`received`, no attempt yet: not the rows
    that the HTTP and IMAP paths process themselves, which start claimed), oldest first,
    for this worker: each is marked as attempted once, so no other worker claims it; returns
    (id, envelope) pairs. The caller commits the claim before processing the rows.

    Several workers may claim at once (on several machines): on PostgreSQL the candidates are
    read `FOR UPDATE SKIP LOCKED`, so two claims never wait for each other nor take the same
    row; on SQLite writers are serialised. A worker that dies after its claim leaves its rows
    `received` with one attempt: `pending_ids` hands them to whoever runs the pending job once
    they are older than its threshold (counted, so a message that kills workers is
    quarantined after HUBDESK_INGEST_MAX_ATTEMPTS)."""
    candidates = session.scalars(
        select(InboundMessage.id)
        .where(InboundMessage.status == "received", InboundMessage.attempts == 0)
        .order_by(InboundMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not candidates:
        return []
    claimed = session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.id.in_(candidates),
            InboundMessage.status == "received",
            InboundMessage.attempts == 0,
        )
        .values(attempts=1)
        .returning(InboundMessage.id, InboundMessage.envelope)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((row.id, dict(row.envelope or {})) for row in claimed)


def purge_raw(session: Session, blobs: Blobs, *, older_than_days: int) -> int:
    """Forget the raw bytes of mail that reached a final state more than N days ago.

    Quarantined and failed mail keeps its bytes until it is resolved. A blob is deleted only
    when no other ledger row still needs it and no attachment shares it.
    """
    cutoff = utcnow() - timedelta(days=older_than_days)
    rows = session.scalars(
        select(InboundMessage).where(
            InboundMessage.status.in_(("processed", "duplicate", "ignored")),
            InboundMessage.processed_at < cutoff,
            InboundMessage.raw_purged_at.is_(None),
        )
    ).all()
    now = utcnow()
    for row in rows:
        row.raw_purged_at = now
        row.raw_inline = None
    session.flush()
    for digest in {row.raw_sha256 for row in rows}:
        still_needed = session.scalar(
            select(InboundMessage.id)
            .where(InboundMessage.raw_sha256 == digest, InboundMessage.raw_purged_at.is_(None))
            .limit(1)
        )
        shared = session.scalar(select(Attachment.id).where(Attachment.sha256 == digest).limit(1))
        if still_needed is None and shared is None:
            blobs.delete(digest)
    return len(rows)


ORPHAN_GRACE_SECONDS = 3600
"""A blob younger than this is never collected: its row may not be committed yet."""


def collect_orphan_blobs(
    session: Session, blobs: Blobs, *, older_than_seconds: float = ORPHAN_GRACE_SECONDS
) -> list[str]:
    """Delete what a crash between a blob's write and its row's commit leaves behind:
    blobs no ledger row (with its raw bytes kept) or attachment names, the local store's
    temporary files and an object store's unfinished uploads, each once older than
    `older_than_seconds`. Returns what went."""
    kept = select(InboundMessage.raw_sha256).where(InboundMessage.raw_purged_at.is_(None))
    referenced = set(session.scalars(kept)) | set(session.scalars(select(Attachment.sha256)))
    return blobs.collect(referenced, older_than_seconds=older_than_seconds)
