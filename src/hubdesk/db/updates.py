"""Rows a bulk batch changed, written with one statement a set of changed columns.

SQLAlchemy writes a row that has a `version_id_col` with an UPDATE of its own, so that each
row's version is checked by its own rowcount. A bulk batch adds about one reply a mail to a
ticket it already holds, and each reply moves the ticket's `updated_at`: 0.43 UPDATE
statements a mail, a round trip each on PostgreSQL (`bench.statements`, 2026-12-05). Rows
without a version (the ledger's, each message's fate) the ORM does group into one
executemany, but after collecting each row's changes one attribute at a time: 7 % of the
ingesting process at 4,000 mails (`bench/README.md`, "Issue 9, 2026-12-06").

In a session where `enable` was called (the optimistic attempt of a bulk batch,
`hubdesk.intake.bulk`), every flush first writes the changed rows of that model whose
changes are all among the named plain columns with one executemany a set of changed
columns. A versioned row is still checked against its version: `UPDATE ... SET <columns>,
version = :next WHERE id = :id AND version = :version`; others `... WHERE id = :id`. The
rows the statement changed must add up to the rows it was given, or it raises
`StaleDataError`, as the ORM's own UPDATE does (the batch then runs again, each message in
a savepoint). A column set to the value it had is no change, as for the ORM: a row whose
columns all are is not written and its version not moved. The values written are then the
object's committed values, its version the next one, and the ORM's flush finds nothing left
to write for it: the object leaves the session's changed ones (`_settle`), as a row the
ORM's flush wrote does.

Only outside savepoints: a savepoint rolled back expires what the ORM wrote inside it, and
nothing here would be expired with it, so a flush inside one is left to the ORM. Objects
with any other change (a relationship, a column outside the list, one a computed column
depends on), and those whose changed foreign key names a row the session does not hold as
written (a new ticket the ORM's flush INSERTs after this), are left to the ORM as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import Table, bindparam, event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState
from sqlalchemy.sql.dml import Update

from hubdesk.db import many
from hubdesk.db.base import Base

_KEY: Final = "hubdesk_updates"


class _Writer:
    def __init__(self, model: type[Any], columns: Iterable[str]) -> None:
        mapper = inspect(model)
        version = mapper.version_id_col
        (primary,) = mapper.primary_key
        self.model = model
        self.table: Table = mapper.local_table
        self.primary = mapper.get_property_by_column(primary).key
        self.version = None if version is None else mapper.get_property_by_column(version).key
        self.columns = frozenset(columns)
        for key in self.columns:  # attribute keys that are the table's own column names
            if key not in self.table.c or key in (self.primary, self.version):
                raise ValueError(f"{key!r} is not a plain column of {self.table.name}")
        self.references = {
            key: fk.column.table for key in self.columns for fk in self.table.c[key].foreign_keys
        }
        """The columns that refer to another row, by the table they refer to."""
        self._statements: dict[frozenset[str], Update] = {}
        self._settles = not (mapper.dispatch.before_update or mapper.dispatch.after_update)
        """Whether a written row may leave the session's changed objects (`_settle`): the
        ORM's flush would call a model's update events for it."""

    def statement(self, keys: frozenset[str]) -> Update:
        found = self._statements.get(keys)
        if found is None:
            table = self.table
            found = table.update().values({key: bindparam(key) for key in sorted(keys)})
            if self.version is None:
                found = found.where(table.c[self.primary] == bindparam("_key"))
            else:
                found = found.where(
                    table.c[self.primary] == bindparam("_key"),
                    table.c[self.version] == bindparam("_version"),
                ).values({self.version: bindparam("_next")})
            self._statements[keys] = found
        return found

    def write(self, session: Session) -> None:
        if session.in_nested_transaction():
            return
        groups: dict[frozenset[str], list[tuple[Any, dict[str, Any], int, tuple[str, ...]]]] = {}
        for obj in session.dirty:
            if type(obj) is not self.model:
                continue
            state = inspect(obj)
            before = state.committed_state
            values = state.dict
            version = values.get(self.version) if self.version is not None else 0
            if not before.keys() <= self.columns or state.deleted or version is None:
                continue
            # a column set to the value it had is no change (the ORM writes nothing for it)
            changed = frozenset(key for key, old in before.items() if values.get(key) != old)
            if changed and self._refers_to_written(session, changed, values):
                groups.setdefault(changed, []).append((obj, values, version, tuple(before)))
        if not groups:
            return
        connection = session.connection()
        for keys, members in groups.items():
            params = [
                {
                    "_key": values[self.primary],
                    "_version": version,
                    "_next": version + 1,
                    **{key: values[key] for key in keys},
                }
                for _obj, values, version, _touched in members
            ]
            matched = many.update_many(connection, self.statement(keys), params)
            if matched != len(params):
                raise StaleDataError(
                    f"UPDATE statement on table '{self.table.name}' expected to update "
                    f"{len(params)} row(s); {matched} were matched."
                )
            for obj, values, version, touched in members:
                for key in touched:  # the same-value ones too: nothing is left to flush
                    set_committed_value(obj, key, values[key])
                if self.version is not None:
                    set_committed_value(obj, self.version, version + 1)
                if self._settles:
                    _settle(session, obj)

    def _refers_to_written(
        self, session: Session, changed: frozenset[str], values: dict[str, Any]
    ) -> bool:
        """Whether every row a changed column now refers to is one the session holds as
        written: one still to be INSERTed (a new ticket the ORM's flush writes after this)
        leaves the row to the ORM, which orders the two."""
        for key in changed & self.references.keys():
            target = values.get(key)
            if target is None:
                continue
            held = session.identity_map.get(_identity(self.references[key], target))
            if held is None:
                return False
        return True


_COMMIT_ALL: Final = getattr(InstanceState, "_commit_all_states", None)
"""SQLAlchemy's own (2.0 and 2.1), what its flush calls on the rows it wrote."""


def _settle(session: Session, obj: Any) -> None:
    """`obj`, every change of which was just written, made clean as the ORM's flush leaves a
    row it wrote: off the session's changed objects, so that the flush's unit of work does
    not visit it (its relationships, its history column by column) to find nothing to write:
    3.1 % of a bulk batch's instructions, the tickets of its replies (`bench.instructions`,
    2026-12-06). An object with anything else still pending, or one expired, is left as it
    is."""
    state = instance_state(obj)
    if (
        _COMMIT_ALL is None
        or state.committed_state
        or state.expired
        or state.__dict__.get("_pending_mutations")  # a collection's, to apply at its load
    ):
        return
    _COMMIT_ALL([(state, state.dict)], session.identity_map)


_MAPPERS: dict[Table, Any] = {}


def _identity(table: Table, key: Any) -> Any:
    """The identity-map key of the row of `table` with primary key `key`."""
    mapper = _MAPPERS.get(table)
    if mapper is None:
        mapper = _MAPPERS[table] = next(m for m in Base.registry.mappers if m.local_table is table)
    return mapper.identity_key_from_primary_key((key,))


_WRITERS: dict[tuple[type[Any], frozenset[str]], _Writer] = {}


def enable(session: Session, model: type[Any], columns: Iterable[str]) -> None:
    """Write `model`'s changed rows set-wise at each of `session`'s flushes (see the
    module) when their changes are all among `columns` (for its current transaction)."""
    named = (model, frozenset(columns))
    writer = _WRITERS.get(named)
    if writer is None:
        writer = _WRITERS[named] = _Writer(*named)
    writers: list[_Writer] | None = session.info.get(_KEY)
    if writers is None:
        writers = session.info[_KEY] = []
        event.listen(session, "before_flush", _before_flush)
    writers.append(writer)


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    for writer in session.info.get(_KEY, ()):
        writer.write(session)
