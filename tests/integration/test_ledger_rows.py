"""`inbound.add_received_many` in a session that numbers its rows ahead (`db.ids`, the bulk
path's batches): one executemany INSERT without RETURNING, ids handed out by `db.ids`, and
objects that hold every column as written, the same rows as the INSERT ... RETURNING path
writes, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, inspect, select
from sqlalchemy.orm import Session

from hubdesk.db import ids
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.runtime import Runtime

_AT = datetime(2026, 12, 5, 22, 50, 1, 250000, tzinfo=UTC)
_GIVEN = [
    inbound.Received("a" * 64, 120, "file:/a.eml", {"mail_from": "x@example.com"}),
    inbound.Received("b" * 64, 80, "file:/b.eml", raw_inline=b"Subject: b\r\n\r\nb"),
    inbound.Received("c" * 64, 99, "imap:INBOX", {"uid": 7}, claimed=True, received_at=_AT),
]


@contextmanager
def _statements(engine: Engine | Connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _columns(row: InboundMessage) -> dict[str, Any]:
    names = [p.key for p in inspect(InboundMessage).column_attrs if p.key != "id"]
    values = {name: getattr(row, name) for name in names}
    if row.received_at != _AT:  # the time of the call, not the same twice
        values["received_at"] = "now"
    return values


def test_a_numbering_session_writes_the_rows_with_one_insert_and_reads_none_back(
    runtime: Runtime,
) -> None:
    with runtime.db.transaction() as session:
        by_returning = inbound.add_received_many(session, _GIVEN)
        expected = [_columns(row) for row in by_returning]
    with runtime.db.transaction() as session:
        ids.enable(session)
        largest = session.scalar(select(func.max(InboundMessage.id))) or 0
        engine = session.get_bind()
        with _statements(engine) as seen:
            made = inbound.add_received_many(session, _GIVEN)
            written = [_columns(row) for row in made]  # every column, raw_inline included
        inserts = [s for s in seen if s.lstrip().upper().startswith("INSERT")]
        assert len(inserts) == 1
        assert "RETURNING" not in inserts[0].upper()
        reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
        # only the numbering's own (SQLite: the largest id; PostgreSQL: a block of ids)
        assert all("max(" in s.lower() or "nextval" in s.lower() for s in reads), reads
        assert written == expected
        if engine.dialect.name == "sqlite":  # counted on from the largest id
            assert [row.id for row in made] == [largest + 1, largest + 2, largest + 3]
        assert all(inspect(row).persistent for row in made)
        made[0].status = "processed"  # a persistent row: a change is an UPDATE
        made_ids = [row.id for row in made]
    with runtime.db.transaction(write=False) as session:
        stored = session.scalars(
            select(InboundMessage).where(InboundMessage.id.in_(made_ids)).order_by("id")
        ).all()
        assert [_columns(row) for row in stored[1:]] == expected[1:]
        assert stored[0].status == "processed"
        assert stored[1].raw_inline == b"Subject: b\r\n\r\nb"
        assert stored[2].attempts == 1
        assert stored[2].received_at == _AT


def test_a_column_the_numbered_insert_gives_no_value_is_refused_by_name(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    unset = {k: v for k, v in inbound._UNSET.items() if k != "queue"}
    monkeypatch.setattr(inbound, "_UNSET", unset)
    with runtime.db.transaction() as session:
        ids.enable(session)
        with pytest.raises(TypeError, match="gives no value for queue"):
            inbound.add_received_many(session, _GIVEN)
        assert _count(session) == 0


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(InboundMessage)) or 0
