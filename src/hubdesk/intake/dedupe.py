"""Deciding that a delivery is one we already have, race-free.

Two keys identify a message: its exact bytes (`raw:`), and its normalised Message-ID with
its content (`msg:`; `nomid:` with the content alone when the id is synthetic, so a message
without an id that arrives by two routes is still one message). The same Message-ID with
different content is a different message (a collision, flagged, never merged).

A key is claimed by inserting it; its primary key settles the race between two workers:
on PostgreSQL the loser's insert waits for the winner's commit and then finds the row, on
SQLite writers are serialised by BEGIN IMMEDIATE.

A bulk batch on SQLite claims from memory instead (`read_ahead`): its chunk reads which of
its keys are held, with one statement, and as no other writer can commit while the batch
holds SQLite's write lock, what that read did not find stays free until the batch commits.
A claim is then kept with the batch's deferred writes (`hubdesk.db.deferred`: dropped with
a message's savepoint, written with one executemany before the commit) and later claims of
the batch look there first. That saves the bulk path's one statement a message that was
left after everything else it writes had become set-wise (`bench/README.md`, "Issue 9,
2026-12-05 evening"). On PostgreSQL another worker can claim a key between the read and the
commit, so a claim is always an INSERT there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Executable, bindparam, delete, exists, insert, select, true, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hubdesk.db import deferred, ids
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


@dataclass
class _KeysRead:
    """What a SQLite batch's chunks read of the dedupe keys (one transaction's worth)."""

    asked: set[str] = field(default_factory=set)
    held: dict[str, int] = field(default_factory=dict)
    """key -> the ledger row that holds it, of the keys asked that were held."""


def read_ahead(session: Session, keys: Collection[str]) -> None:
    """In a SQLite bulk batch (`db.ids.sole_writer`), read which of `keys` are held,
    with one statement, so that claiming them is answered from memory (see the module);
    elsewhere nothing (claims insert at once)."""
    if not ids.sole_writer(session):
        return
    read: _KeysRead = session.info.setdefault(_READ, _KeysRead())
    new = [key for key in keys if key not in read.asked]
    if not new:
        return
    for key, owner in session.connection().execute(_HELD, {"keys": new}):
        read.held[key] = owner
    read.asked.update(new)


def _owners_in_memory(session: Session, keys: tuple[str, ...]) -> list[int | None] | None:
    """Who holds each of `keys` (None: free), answered from the batch's read and its own
    claims; None when the batch did not read them all."""
    read: _KeysRead | None = session.info.get(_READ)
    if read is None or not all(key in read.asked for key in keys):
        return None
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
    # the ledger row, which is flushed already) and no ORM statement overhead per message;
    # the statements are built once (each message only binds its values).
    connection = session.connection()
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
    connection = session.connection()
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
        row = session.get(InboundMessage, current)
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
