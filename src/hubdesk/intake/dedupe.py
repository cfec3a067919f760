"""Deciding that a delivery is one we already have, race-free.

Two keys identify a message: its exact bytes (`raw:`), and its normalised Message-ID with
its content (`msg:`; `nomid:` with the content alone when the id is synthetic, so a message
without an id that arrives by two routes is still one message). The same Message-ID with
different content is a different message (a collision, flagged, never merged).

A key is claimed by inserting it; its primary key settles the race between two workers:
on PostgreSQL the loser's insert waits for the winner's commit and then finds the row, on
SQLite writers are serialised by BEGIN IMMEDIATE.

A bulk batch on SQLite claims from memory instead (`claim_ahead`): its chunk reads which of
its keys are held, with one statement, and as no other writer can commit while the batch
holds SQLite's write lock, what that read did not find stays free until the batch commits.
A claim is then kept with the batch's deferred writes (`hubdesk.db.deferred`: dropped with
a message's savepoint, written with one executemany before the commit) and later claims of
the batch look there first. That saves the bulk path's one statement a message that was
left after everything else it writes had become set-wise (`bench/README.md`, "Issue 9,
2026-12-05 evening").

On PostgreSQL another worker can claim a key between a read and the commit, so a claim is
always an INSERT there; a bulk batch makes its chunk's claims with one INSERT ... ON CONFLICT
DO NOTHING RETURNING for all of them (`claim_ahead`), each key for the first message of the
chunk that will claim it, and reads the owners of the keys it did not get with one more.
Each message's claim is then answered from that. The claims are made before the messages
run, so they are not inside a message's savepoint: a message that then fails gives back the
keys it was given (`give_back`; a failed message keeps its raw key, as `mark_failed` does).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Executable,
    bindparam,
    delete,
    exists,
    insert,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hubdesk.db import deferred, ids, reads
from hubdesk.db.types import utcnow
from hubdesk.inbound.models import DedupeKey, InboundMessage
from hubdesk.mail.types import ParsedEmail


def raw_key(raw_sha256: str) -> str:
    return f"raw:{raw_sha256}"


def content_key(parsed: ParsedEmail) -> str:
    if parsed.message_id_synthetic:
        return f"nomid:{parsed.content_key}"
    id_hash = hashlib.sha256(parsed.message_id.encode("utf-8", "surrogateescape")).hexdigest()
    return f"msg:{id_hash}:{parsed.content_key}"


_READ: Final = "hubdesk_dedupe_read"
_CLAIMS: Final = "dedupe_claims"
"""The deferred writes' name for the claims a SQLite batch made in memory."""


@dataclass(frozen=True)
class Wanted:
    """The keys one message of a bulk chunk will claim when it runs."""

    inbound_id: int
    raw: str
    content: str | None
    """None: its run claims the raw key alone (bytes another row holds, not an email)."""


@dataclass
class _KeysRead:
    """What a bulk batch's chunks know of the dedupe keys (one transaction's worth)."""

    free_in_memory: bool
    """SQLite: a key asked and not held is free, and is claimed in memory. PostgreSQL:
    every key asked is held (by the batch's claim or another row)."""
    asked: set[str] = field(default_factory=set)
    held: dict[str, int] = field(default_factory=dict)
    """key -> the ledger row that holds it, of the keys asked that were held."""
    given: dict[int, list[str]] = field(default_factory=dict)
    """PostgreSQL: ledger row -> the keys the batch's claims inserted for it."""


def claim_ahead(session: Session, wanted: Sequence[Wanted]) -> None:
    """Make what a bulk chunk's messages will claim answerable from memory (see the
    module): in a SQLite batch (`db.ids.sole_writer`) read which of the keys are held; in a
    PostgreSQL batch (`db.deferred` on) claim them, each for the first message wanting it;
    elsewhere nothing (each claim inserts when its message runs)."""
    if ids.sole_writer(session):
        read = _read_of(session, free_in_memory=True)
        keys = {key: 0 for w in wanted for key in (w.raw, w.content) if key is not None}
        new = [key for key in keys if key not in read.asked]
        if new:
            read.held.update(_owners(session.connection().execute(_HELD, {"keys": new})))
            read.asked.update(new)
    elif deferred.active(session) and session.get_bind().dialect.name == "postgresql":
        _claim_chunk(session, _read_of(session, free_in_memory=False), wanted)


def _owners(rows: Iterable[Any]) -> dict[str, int]:
    return {row[0]: row[1] for row in rows}


def _read_of(session: Session, *, free_in_memory: bool) -> _KeysRead:
    read: _KeysRead = session.info.setdefault(_READ, _KeysRead(free_in_memory))
    return read


def _claim_chunk(session: Session, read: _KeysRead, wanted: Sequence[Wanted]) -> None:
    """PostgreSQL: the chunk's keys claimed with one statement, in key order (two workers'
    statements then lock shared keys in the same order), the owners of the rest read with
    one more. As with `claim_both`, a content key is not taken for bytes another row holds."""
    owners: dict[str, int] = {}
    for w in wanted:
        if w.raw not in read.asked:
            owners.setdefault(w.raw, w.inbound_id)
        raw_owner = read.held.get(w.raw, owners.get(w.raw))
        if w.content is not None and w.content not in read.asked and raw_owner == w.inbound_id:
            owners.setdefault(w.content, w.inbound_id)
    if not owners:
        return
    connection = session.connection()
    now = utcnow()
    rows = [{"key": k, "inbound_id": owners[k], "created_at": now} for k in sorted(owners)]
    # one statement built once: SQLAlchemy sends a list of rows with RETURNING as one
    # multi-row INSERT ("insertmanyvalues"), in the order given
    inserted = set(connection.execute(_CLAIM[True], rows).scalars())
    for key in inserted:
        read.held[key] = owners[key]
        read.given.setdefault(owners[key], []).append(key)
    others = [key for key in owners if key not in inserted]
    if others:  # committed rows hold them (the INSERT waited for any that was not)
        read.held.update(_owners(connection.execute(_HELD, {"keys": others})))
    read.asked.update(key for key in owners if key in read.held)
    # another worker's bytes committed after the chunk's first read of the raw keys: a
    # content key taken for them is not ours after all (as `claim_both` gives it back)
    for w in wanted:
        content = w.content
        mine = content is not None and content in inserted and owners[content] == w.inbound_id
        if mine and content and read.held.get(w.raw, w.inbound_id) != w.inbound_id:
            _release(session, read, w.inbound_id, [content])


def give_back(session: Session, inbound_id: int, *, keep: str | None = None) -> None:
    """A message of a bulk batch failed (rolled back to its savepoint): the keys the
    batch's chunk claimed for it are free again (but `keep`), as if its own claims had
    rolled back with it; `keep` is the raw key the failed row holds (`mark_failed`)."""
    read: _KeysRead | None = session.info.get(_READ)
    if read is None:
        return
    if not read.free_in_memory:
        given = read.given.get(inbound_id, [])
        _release(session, read, inbound_id, [key for key in given if key != keep])
    if keep is not None and keep in read.asked:
        read.held.setdefault(keep, inbound_id)


def _release(session: Session, read: _KeysRead, inbound_id: int, keys: list[str]) -> None:
    if not keys:
        return
    session.connection().execute(_RELEASE, {"keys": keys, "inbound_id": inbound_id})
    for key in keys:
        read.held.pop(key, None)
        read.asked.discard(key)
        read.given[inbound_id].remove(key)


def _owners_in_memory(session: Session, keys: tuple[str, ...]) -> list[int | None] | None:
    """Who holds each of `keys` (None: free), answered from the batch's chunks and its own
    claims; None when the batch did not ask for them all."""
    read: _KeysRead | None = session.info.get(_READ)
    if read is None or not all(key in read.asked for key in keys):
        return None
    if not read.free_in_memory:
        return [read.held[key] for key in keys]
    return [deferred.get(session, _CLAIMS, key) or read.held.get(key) for key in keys]


def _claim_in_memory(session: Session, inbound_id: int, key: str) -> None:
    deferred.put(session, _CLAIMS, key, inbound_id, _write_claims)


def _write_claims(session: Session, claims: Mapping[Hashable, Any]) -> None:
    now = utcnow()
    session.connection().execute(
        insert(DedupeKey),
        [{"key": key, "inbound_id": owner, "created_at": now} for key, owner in claims.items()],
    )


def claim(session: Session, inbound_id: int, key: str) -> int | None:
    """Claim `key` for ledger row `inbound_id`. Returns None when it is ours (now or before),
    else the id of the original ledger row this delivery duplicates."""
    known = _owners_in_memory(session, (key,))
    if known is not None:
        owner = known[0]
        if owner is None:
            _claim_in_memory(session, inbound_id, key)
            return None
        return None if owner == inbound_id else original_of(session, owner)
    # On the session's connection, not through the ORM: no autoflush (the key names only
    # the ledger row, written first) and no ORM statement overhead per message; the
    # statements are built once (each message only binds its values).
    connection = _claiming(session, inbound_id)
    inserted = connection.execute(
        _CLAIM[connection.dialect.name == "postgresql"],
        {"key": key, "inbound_id": inbound_id, "created_at": utcnow()},
    ).first()
    if inserted is not None:
        return None
    owner = connection.scalar(_OWNER, {"key": key})
    if owner is None or owner == inbound_id:
        return None
    return original_of(session, owner)


def claim_both(session: Session, inbound_id: int, raw: str, content: str) -> tuple[str, int] | None:
    """Claim the raw key and the content key for `inbound_id` with one statement (the bulk
    and live paths' common case: a new message takes both). Returns None when both are ours
    (now or before); else which key another delivery holds (`raw` is asked first, as
    `claim` one by one would) and the original ledger row it duplicates.

    A delivery whose bytes we have never takes the content key: the statement inserts the
    content key only where no other row holds the raw key. On PostgreSQL another worker's
    raw key can commit after this statement's snapshot, so a content key taken in that race
    is given back at once (SQLite serialises writers; there the race cannot happen).
    """
    known = _owners_in_memory(session, (raw, content))
    if known is not None:
        return _claim_both_in_memory(session, inbound_id, (raw, content), known)
    connection = _claiming(session, inbound_id)
    values = {"raw": raw, "content": content, "inbound_id": inbound_id, "created_at": utcnow()}
    taken = set(connection.scalars(_CLAIM_BOTH[connection.dialect.name == "postgresql"], values))
    if raw not in taken:
        owner = connection.scalar(_OWNER, {"key": raw})
        if owner is not None and owner != inbound_id:
            if content in taken:  # the PostgreSQL race above: not ours after all
                connection.execute(_GIVE_BACK, {"key": content, "inbound_id": inbound_id})
            return "raw", original_of(session, owner)
    if content not in taken:
        owner = connection.scalar(_OWNER, {"key": content})
        if owner is not None and owner != inbound_id:
            return "content", original_of(session, owner)
    return None


def _claiming(session: Session, inbound_id: int) -> Connection:
    """The session's connection, for a claim of ledger row `inbound_id` inserted at once:
    the row is written first if it is still a new object (a SQLite batch writes a chunk's
    ledger rows at its next flush, `inbound.add_received_many`), as the claim refers to it."""
    if any(row.id == inbound_id for row in reads.pending_of(session, InboundMessage)):
        session.flush()
    return session.connection()


def _claim_both_in_memory(
    session: Session, inbound_id: int, keys: tuple[str, str], owners: list[int | None]
) -> tuple[str, int] | None:
    """`claim_both` from a SQLite batch's memory, with the statement's outcomes: bytes
    another row holds take nothing; else the raw key is ours, and the content key too unless
    another row holds it."""
    (raw, content), (raw_owner, content_owner) = keys, owners
    if raw_owner is not None and raw_owner != inbound_id:
        return "raw", original_of(session, raw_owner)
    if raw_owner is None:
        _claim_in_memory(session, inbound_id, raw)
    if content_owner is not None and content_owner != inbound_id:
        return "content", original_of(session, content_owner)
    if content_owner is None:
        _claim_in_memory(session, inbound_id, content)
    return None


def _claim_statement(insert: Callable[..., Any]) -> Executable:
    statement: Executable = (
        insert(DedupeKey)
        .values(
            key=bindparam("key"),
            inbound_id=bindparam("inbound_id"),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(DedupeKey.key)
    )
    return statement


def _claim_both_statement(insert: Callable[..., Any]) -> Executable:
    keys = DedupeKey.__table__
    # typed: PostgreSQL infers nothing from a parameter in a SELECT list
    raw = bindparam("raw", type_=keys.c.key.type)
    inbound_id = bindparam("inbound_id", type_=keys.c.inbound_id.type)
    created_at = bindparam("created_at", type_=keys.c.created_at.type)
    content = bindparam("content", type_=keys.c.key.type)
    raw_row = select(raw, inbound_id, created_at).where(true())  # SQLite: WHERE before ON
    held_by_another = exists().where(keys.c.key == raw, keys.c.inbound_id != inbound_id)
    content_row = select(content, inbound_id, created_at).where(~held_by_another)
    statement: Executable = (
        insert(DedupeKey)
        .from_select(["key", "inbound_id", "created_at"], union_all(raw_row, content_row))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(DedupeKey.key)
    )
    return statement


_CLAIM: Final = {False: _claim_statement(sqlite_insert), True: _claim_statement(pg_insert)}
_CLAIM_BOTH: Final = {
    False: _claim_both_statement(sqlite_insert),
    True: _claim_both_statement(pg_insert),
}
_GIVE_BACK: Final = delete(DedupeKey).where(
    DedupeKey.key == bindparam("key"), DedupeKey.inbound_id == bindparam("inbound_id")
)
_RELEASE: Final = delete(DedupeKey).where(
    DedupeKey.key.in_(bindparam("keys", expanding=True)),
    DedupeKey.inbound_id == bindparam("inbound_id"),
)
_OWNER: Final = select(DedupeKey.inbound_id).where(DedupeKey.key == bindparam("key"))
_HELD: Final = select(DedupeKey.key, DedupeKey.inbound_id).where(
    DedupeKey.key.in_(bindparam("keys", expanding=True))
)
_SAME_ID: Final = (
    select(InboundMessage.id)
    .where(
        InboundMessage.message_id == bindparam("message_id"),
        InboundMessage.id != bindparam("inbound_id"),
        InboundMessage.status.in_(("processed", "ignored")),
    )
    .limit(1)
)


def original_of(session: Session, inbound_id: int) -> int:
    """Follow `duplicate_of` to the delivery that was processed first. The rows are read
    with `session.get`: the caller reads the original's row next anyway, and a row the
    session holds (a bulk chunk reads ahead the rows its duplicates name) costs nothing."""
    seen = {inbound_id}
    current = inbound_id
    while True:
        row = reads.get(session, InboundMessage, current)  # a batch's new row too
        parent = row.duplicate_of_id if row is not None else None
        if parent is None or parent in seen:
            return current
        seen.add(parent)
        current = parent


def same_message_id_exists(session: Session, parsed: ParsedEmail, inbound_id: int) -> bool:
    """True when another ledger row carries this (real) Message-ID with different content."""
    if parsed.message_id_synthetic:
        return False
    # other rows only, settled and flushed by their own savepoints: no autoflush
    found = session.connection().scalar(
        _SAME_ID, {"message_id": parsed.message_id, "inbound_id": inbound_id}
    )
    return found is not None
