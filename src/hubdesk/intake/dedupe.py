"""Deciding that a delivery is one we already have, race-free.

Two keys identify a message: its exact bytes (`raw:`), and its normalised Message-ID with
its content (`msg:`; `nomid:` with the content alone when the id is synthetic, so a message
without an id that arrives by two routes is still one message). The same Message-ID with
different content is a different message (a collision, flagged, never merged).

A key is claimed by inserting it; its primary key settles the race between two workers:
on PostgreSQL the loser's insert waits for the winner's commit and then finds the row, on
SQLite writers are serialised by BEGIN IMMEDIATE.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import Executable, bindparam, delete, exists, select, true, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

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


def claim(session: Session, inbound_id: int, key: str) -> int | None:
    """Claim `key` for ledger row `inbound_id`. Returns None when it is ours (now or before),
    else the id of the original ledger row this delivery duplicates."""
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
