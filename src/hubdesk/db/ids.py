"""Primary keys handed out before the INSERT, so that a bulk batch need not flush to learn them.

A new ticket, comment or email-log row is referred to at once by the rows that follow it
(the audit row, the email log's `ticket_id`, a comment's `email_log_id`). Without a key of its
own, each had to be flushed on its own to learn its id: one ORM flush a message, a third of
the bulk path's time (`bench/README.md`, "Issue 9, 2026-12-05 afternoon"). In a session where
`enable` was called (the bulk path's batches, `hubdesk.intake.bulk`), `assign` gives a new
object its id from a block reserved for the transaction, and the rows are written with the
batch's next flush, one statement a table.

- PostgreSQL: a block of the table's own sequence (`nextval` over `generate_series`), one
  round trip for `BLOCK` ids. Other writers draw from the same sequence, so no id is handed
  out twice; the ones a batch does not use are a gap, as a rolled-back INSERT leaves.
- SQLite: the table's largest id, read once a transaction, then counted up. A writing
  transaction holds the database's write lock from its start (BEGIN IMMEDIATE), so no other
  connection inserts meanwhile; within the transaction every INSERT into these tables takes
  its id here too (`before_insert`), so none takes an id the counter will hand out later.

Sessions that are not enabled are untouched: the database numbers their rows at the INSERT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Table, event, func, select, text
from sqlalchemy.orm import Mapper, Session, object_session, relationship
from sqlalchemy.orm.attributes import instance_state

_KEY: Final = "hubdesk_ids"
BLOCK: Final = 25
"""Ids a PostgreSQL sequence is asked for at once (a bulk chunk's worth)."""


@dataclass
class _Counter:
    next: int
    end: int | None = None
    """PostgreSQL: the first id beyond the reserved block (None on SQLite: unbounded)."""


@dataclass
class _Ids:
    counters: dict[str, _Counter] = field(default_factory=dict)


def enable(session: Session) -> None:
    """Hand out ids in `session` (for its current transaction; the caller's batch)."""
    session.info[_KEY] = _Ids()


def active(session: Session) -> bool:
    return _KEY in session.info


def sole_writer(session: Session) -> bool:
    """Whether `session` is an enabled (bulk batch) session on SQLite: its transaction holds
    the database's write lock from its start (BEGIN IMMEDIATE), so a row it read as absent
    stays absent, and a key it read as free stays free, until it commits."""
    return _KEY in session.info and session.get_bind().dialect.name == "sqlite"


def assign(session: Session, obj: Any) -> bool:
    """Give the new `obj` its primary key now; False (nothing done) when `session` is not
    enabled, where the caller flushes to learn it as before."""
    ids: _Ids | None = session.info.get(_KEY)
    if ids is None:
        return False
    # the new object's dictionary, where its INSERT reads the key: through the attribute,
    # an event and a history entry for an object that has no loaded state (1 % of a batch)
    values = obj.__dict__
    if values.get("id") is None and instance_state(obj).key is None:  # new, not a loaded one
        values["id"] = _next(session, ids, type(obj).__table__)
    return True


def take(session: Session, table: Table, count: int) -> list[int] | None:
    """`count` ids for new rows of `table` that the caller INSERTs itself (a statement of
    its own, no RETURNING); None when `session` is not enabled."""
    ids: _Ids | None = session.info.get(_KEY)
    if ids is None:
        return None
    return [_next(session, ids, table) for _ in range(count)]


def _next(session: Session, ids: _Ids, table: Table) -> int:
    counter = ids.counters.get(table.name)
    if counter is None or (counter.end is not None and counter.next >= counter.end):
        counter = ids.counters[table.name] = _reserve(session, table)
    value = counter.next
    counter.next += 1
    return value


def _reserve(session: Session, table: Table) -> _Counter:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        block = list(
            connection.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"table": table.name, "n": BLOCK},
            )
        )
        # a sequence hands a session consecutive values unless another session drew in
        # between: use the run that starts the block, leave the rest as a gap
        run = 1
        while run < len(block) and block[run] == block[0] + run:
            run += 1
        return _Counter(block[0], block[0] + run)
    largest = connection.scalar(select(func.max(table.c.id)))
    return _Counter((largest or 0) + 1)


def _number_at_insert(_mapper: Mapper[Any], _connection: Any, target: Any) -> None:
    """An object of an enabled session that reached its INSERT without an id takes one
    from the same counter (SQLite: else it would take one the counter hands out later)."""
    session = object_session(target)
    if session is not None and target.id is None and _KEY in session.info:
        target.id = _next(session, session.info[_KEY], type(target).__table__)


_REGISTERED: Final[set[type]] = set()


def register(*models: type) -> None:
    """Number these models' new rows here in enabled sessions (called once, at import)."""
    for model in models:
        event.listen(model, "before_insert", _number_at_insert)
        _REGISTERED.add(model)


def registered(model: type) -> bool:
    """Whether `register` numbers `model`'s new rows (its one insert event)."""
    return model in _REGISTERED


def parent(target: type | str, *, foreign_keys: Any = None) -> Any:
    """A many-to-one relationship that only orders the flush: a row numbered by `assign` is
    INSERTed in the same flush as the rows that refer to it, and the unit of work orders
    tables by their relationships, not by their foreign keys. Never loaded (`lazy="raise"`):
    code reads and sets the foreign-key column itself."""
    if foreign_keys is None:
        return relationship(target, lazy="raise")
    return relationship(target, lazy="raise", foreign_keys=foreign_keys)


def order_after(child: type, parent_model: type, column: Any) -> None:
    """`parent` for a model whose package may not import `parent_model`'s (two domains side
    by side): added by a layer above both, before its sessions number rows."""
    name = f"_flush_after_{column.key}"
    mapper = child.__mapper__  # type: ignore[attr-defined]
    if not mapper.has_property(name):
        mapper.add_property(name, parent(parent_model, foreign_keys=[column]))
