"""Rows INSERTed or UPDATEd with one executemany, handed to the driver as SQLAlchemy would
hand them.

SQLAlchemy's Core INSERT of many rows builds each row's parameters again (its
`construct_params` a row, then a bind processor a column): 4 % of a bulk batch's time on
SQLite (py-spy, `bench.bulk_cpu --count 4000`, 2026-12-06), for the new rows of
`db.inserts` and the kept rows of `db.deferred`. On a driver with `?` parameters (SQLite),
`insert_many` sends the INSERT's text (compiled once by SQLAlchemy) with each row as a
tuple, each value converted by the bind processor SQLAlchemy itself applies to its column
(`bind_processor` of the column's type for the dialect): the driver gets the same values.
Elsewhere, and for a table with a column the rows leave out that SQLAlchemy would fill in
(a Python default), it is the Core INSERT. `update_many` does the same for an UPDATE whose
every value is a named parameter (the changed rows of `db.updates`). Statement events and
the connection's transaction are SQLAlchemy's as for any statement
(`Connection.exec_driver_sql`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import Connection, CursorResult, Dialect, Table, insert
from sqlalchemy.engine.interfaces import Compiled
from sqlalchemy.sql.dml import Update

_Plan = tuple[str, tuple[Any, ...], tuple[Callable[[Any], Any] | None, ...]]
"""The statement's text, where each of its parameters is in a row (an index into a row of
values, or a name in a row of named values), and the parameter's bind processor."""

_PLANS: Final[dict[tuple[Table, tuple[str, ...], str], _Plan | None]] = {}
_STATEMENTS: Final[dict[Table, Any]] = {}
_UPDATES: Final[dict[tuple[Update, str], _Plan | None]] = {}


def insert_many(
    connection: Connection, table: Table, keys: tuple[str, ...], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT `rows` into `table` with one executemany: each row the values of the columns
    named by `keys` (column keys), in that order."""
    plan = _plan(table, keys, connection.dialect)
    if plan is None:
        statement = _STATEMENTS.get(table)
        if statement is None:
            statement = _STATEMENTS[table] = insert(table)
        connection.execute(statement, [dict(zip(keys, row, strict=True)) for row in rows])
        return
    _send(connection, plan, rows)


def _plan(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    """The driver's text and the columns' bind processors, or None: the Core INSERT."""
    cache = (table, keys, dialect.name)
    if cache in _PLANS:
        return _PLANS[cache]
    found: _Plan | None = None
    left_out = [c for c in table.columns if c.key not in keys]
    if dialect.paramstyle == "qmark" and not any(
        c.default is not None and not c.computed for c in left_out
    ):
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        order = compiled.positiontup or []
        if sorted(order) == sorted(keys):
            found = _compiled_plan(compiled, dialect, tuple(keys.index(name) for name in order))
    _PLANS[cache] = found
    return found


def update_many(connection: Connection, statement: Update, rows: Sequence[dict[str, Any]]) -> int:
    """Run `statement` once for each of `rows` (its named parameters' values) with one
    executemany; the number of rows it changed."""
    plan = _update_plan(statement, connection.dialect)
    if plan is None:
        return connection.execute(statement, list(rows)).rowcount
    return _send(connection, plan, rows).rowcount


def _update_plan(statement: Update, dialect: Dialect) -> _Plan | None:
    """The driver's text, its parameters' names in order and their bind processors, or None
    (not a `?` driver: the Core UPDATE). Kept per statement object: callers build each once."""
    cache = (statement, dialect.name)
    if cache in _UPDATES:
        return _UPDATES[cache]
    found = None
    if dialect.paramstyle == "qmark":
        compiled = statement.compile(dialect=dialect)
        found = _compiled_plan(compiled, dialect, tuple(compiled.positiontup or ()))
    _UPDATES[cache] = found
    return found


def _compiled_plan(compiled: Compiled, dialect: Dialect, places: tuple[Any, ...]) -> _Plan:
    """`compiled`'s text, where each of its `?` takes its value from a row (`places`, in
    the order of `compiled.positiontup`), and the bind processor SQLAlchemy applies to it."""
    names = compiled.positiontup or []  # type: ignore[attr-defined]
    return (
        compiled.string,
        places,
        tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[attr-defined]
            for name in names
        ),
    )


def _send(connection: Connection, plan: _Plan, rows: Sequence[Any]) -> CursorResult[Any]:
    """The plan's statement with one executemany, each row converted to the driver's tuple."""
    sql, places, processors = plan
    return connection.exec_driver_sql(
        sql,
        [
            tuple(
                [
                    row[place] if p is None else p(row[place])
                    for place, p in zip(places, processors, strict=True)
                ]
            )
            for row in rows
        ],
    )
