"""`hubdesk.db.many.insert_many`: rows handed to the driver as tuples on SQLite store what
SQLAlchemy's Core INSERT stores (times, JSON and its null, flags, text), with one
executemany; a table whose rows leave out a column with a Python default, and PostgreSQL,
take the Core INSERT, which fills the default in. `update_many`: the same for an UPDATE of
named parameters, and the count of rows it changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
)

from hubdesk.db import many
from hubdesk.db.types import JSONValue, UTCDateTime
from hubdesk.runtime import Runtime

_META = MetaData()
_KINDS = Table(
    "many_kinds",
    _META,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime),
    Column("facts", JSONValue),
    Column("flag", Boolean),
    Column("name", String(50)),
)
_DEFAULTED = Table(
    "many_defaulted",
    _META,
    Column("id", Integer, primary_key=True),
    Column("state", String(20), default="open"),
)

_KEYS = ("id", "at", "facts", "flag", "name")
_ROWS: list[tuple[Any, ...]] = [
    (1, datetime(2026, 12, 6, 9, 5, 7, 250000, tzinfo=UTC), {"a": [1, "é"]}, True, "plain"),
    # another zone, JSON's null, a false flag, a name with a quote
    (2, datetime(2026, 12, 6, 11, 0, tzinfo=timezone(timedelta(hours=2))), None, False, "O'Hara"),
    (3, None, [], None, None),
]


@pytest.fixture
def connection(runtime: Runtime) -> Iterator[Connection]:
    with runtime.db.engine.begin() as opened:
        _META.create_all(opened)
        yield opened
        _META.drop_all(opened)


def _stored(connection: Connection, table: Table) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]


def _sent(connection: Connection) -> list[tuple[str, bool]]:
    seen: list[tuple[str, bool]] = []

    def listener(*args: Any) -> None:
        seen.append((" ".join(args[2].split()[:3]), args[5]))  # statement, executemany

    event.listen(connection, "before_cursor_execute", listener)
    return seen


def test_the_rows_stored_are_the_ones_the_core_insert_stores(connection: Connection) -> None:
    sent = _sent(connection)
    many.insert_many(connection, _KINDS, _KEYS, _ROWS)
    assert sent == [("INSERT INTO many_kinds", True)]
    ours = _stored(connection, _KINDS)
    connection.execute(_KINDS.delete())
    connection.execute(insert(_KINDS), [dict(zip(_KEYS, row, strict=True)) for row in _ROWS])
    assert ours == _stored(connection, _KINDS)
    assert ours[1][1] == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    # what was None stays so in a JSON column as SQLAlchemy stores it (JSON's null)
    assert ours[1][2] is None
    assert ours[2][2] == []


def test_rows_in_another_order_of_columns(connection: Connection) -> None:
    keys = ("name", "flag", "facts", "at", "id")
    many.insert_many(connection, _KINDS, keys, [tuple(reversed(row)) for row in _ROWS])
    assert _stored(connection, _KINDS)[0][1:] == _ROWS[0][1:]


def test_a_left_out_column_with_a_default_is_filled_in(connection: Connection) -> None:
    many.insert_many(connection, _DEFAULTED, ("id",), [(1,), (2,)])
    assert _stored(connection, _DEFAULTED) == [(1, "open"), (2, "open")]


def test_an_update_of_named_parameters_stores_what_the_core_update_stores(
    connection: Connection,
) -> None:
    many.insert_many(connection, _KINDS, _KEYS, _ROWS)
    statement = (
        _KINDS.update()
        .values(at=bindparam("at"), facts=bindparam("facts"), name=bindparam("name"))
        .where(_KINDS.c.id == bindparam("_key"), _KINDS.c.flag.is_not(None))
    )
    changes = [
        {
            "_key": 1,
            "at": datetime(2026, 12, 7, 1, 0, tzinfo=timezone(timedelta(hours=-5))),
            "facts": {"b": None},
            "name": "changed",
        },
        {"_key": 2, "at": None, "facts": ["x"], "name": "also"},
        {"_key": 3, "at": None, "facts": {}, "name": "never"},  # flag is NULL: not matched
        {"_key": 9, "at": None, "facts": {}, "name": "no such row"},
    ]
    sent = _sent(connection)
    assert many.update_many(connection, statement, changes) == 2
    assert sent == [("UPDATE many_kinds SET", True)]
    ours = _stored(connection, _KINDS)
    connection.execute(_KINDS.delete())
    many.insert_many(connection, _KINDS, _KEYS, _ROWS)
    assert connection.execute(statement, changes).rowcount == 2
    assert ours == _stored(connection, _KINDS)
    assert ours[0][1] == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    assert ours[0][2:] == ({"b": None}, True, "changed")
    assert ours[2] == (3, None, [], None, None)
