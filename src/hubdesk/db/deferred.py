"""Writes a bulk batch keeps until its end and then issues set-wise (one statement a table).

Rows that nothing in the pipeline reads back within the transaction — audit rows,
classification records, search documents — need not be written one by one through the
ORM's unit of work. When a session is `enable`d (the bulk path, `hubdesk.intake.bulk`),
`insert` keeps such a row and `put` keeps the latest value for a key (a ticket's search
document: the last one wins), and `flush` writes them all with executemany right before the
batch commits, inside the same transaction: they commit together with everything else or
not at all. Each message marks the pending writes before its savepoint (`mark`) and drops
its own with `rollback_to` when the savepoint rolls back, so a failed message leaves none of
its rows behind. Sessions that are not enabled write at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from hubdesk.db import many

_KEY: Final = "hubdesk_deferred"
_MISSING: Final = object()

Writer = Callable[[Session, Mapping[Hashable, Any]], None]
Undo = Callable[[Hashable, Any], None]


@dataclass
class _Pending:
    rows: list[tuple[Table, dict[str, Any]]] = field(default_factory=list)
    keyed: dict[str, dict[Hashable, Any]] = field(default_factory=dict)
    writers: dict[str, Writer] = field(default_factory=dict)
    undo: dict[str, Undo] = field(default_factory=dict)
    """name -> called with (key, value) for a value `rollback_to` drops."""
    journal: list[tuple[str, Hashable, Any]] = field(default_factory=list)
    """(name, key, previous value or _MISSING) for every `put`, to undo a message's."""


@dataclass(frozen=True)
class Mark:
    rows: int
    journal: int


def enable(session: Session) -> None:
    """Keep this session's deferrable writes until `flush` (the caller must flush)."""
    session.info[_KEY] = _Pending()


def active(session: Session) -> bool:
    return _KEY in session.info


def insert_row(session: Session, model: type[Any], row: dict[str, Any]) -> bool:
    """Keep `row` for the table of `model` until `flush` (every row of a table should name
    the same columns, defaults included); False (nothing kept) when not enabled."""
    pending: _Pending | None = session.info.get(_KEY)
    if pending is None:
        return False
    pending.rows.append((cast(Table, model.__table__), row))
    return True


def put(
    session: Session,
    name: str,
    key: Hashable,
    value: Any,
    writer: Writer,
    *,
    undo: Undo | None = None,
) -> bool:
    """Keep `value` as the latest for `key` in `name`, written by `writer` at `flush`;
    False (nothing kept) when not enabled. `undo` is told of a new key's value that a
    savepoint's `rollback_to` drops."""
    pending: _Pending | None = session.info.get(_KEY)
    if pending is None:
        return False
    values = pending.keyed.setdefault(name, {})
    pending.writers[name] = writer
    if undo is not None:
        pending.undo[name] = undo
    pending.journal.append((name, key, values.get(key, _MISSING)))
    values[key] = value
    return True


def get(session: Session, name: str, key: Hashable) -> Any:
    """The value kept for `key` in `name` (None when none is kept or not enabled)."""
    pending: _Pending | None = session.info.get(_KEY)
    if pending is None:
        return None
    return pending.keyed.get(name, {}).get(key)


def kept(session: Session, name: str) -> dict[Hashable, Any]:
    """Every value kept in `name` (a copy; empty when none or not enabled)."""
    pending: _Pending | None = session.info.get(_KEY)
    return dict(pending.keyed.get(name, {})) if pending is not None else {}


def drop(session: Session, name: str) -> None:
    """Forget what is kept in `name` (it was dealt with otherwise)."""
    pending: _Pending | None = session.info.get(_KEY)
    if pending is not None:
        pending.keyed.pop(name, None)


def mark(session: Session) -> Mark | None:
    pending: _Pending | None = session.info.get(_KEY)
    if pending is None:
        return None
    return Mark(len(pending.rows), len(pending.journal))


def rollback_to(session: Session, position: Mark | None) -> None:
    """Drop what was kept since `position` (a message's savepoint rolled back)."""
    pending: _Pending | None = session.info.get(_KEY)
    if pending is None or position is None:
        return
    del pending.rows[position.rows :]
    while len(pending.journal) > position.journal:
        name, key, previous = pending.journal.pop()
        if previous is _MISSING:
            dropped = pending.keyed.get(name, {}).pop(key, _MISSING)
            if dropped is not _MISSING and name in pending.undo:
                pending.undo[name](key, dropped)
        else:
            pending.keyed.setdefault(name, {})[key] = previous


def flush(session: Session) -> int:
    """Write everything kept, one executemany per table (in the order first kept); returns
    how many rows and values were written. The session stays enabled, empty."""
    pending: _Pending | None = session.info.get(_KEY)
    if pending is None:
        return 0
    session.flush()
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for table, row in pending.rows:
        groups.setdefault((table, tuple(row)), []).append(row)
    written = 0
    connection = session.connection()
    for (table, columns), rows in groups.items():
        many.insert_many(connection, table, columns, [tuple(row.values()) for row in rows])
        written += len(rows)
    for name, values in pending.keyed.items():
        if values:
            pending.writers[name](session, values)
            written += len(values)
    session.info[_KEY] = _Pending()
    return written
