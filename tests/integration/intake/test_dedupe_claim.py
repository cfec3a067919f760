"""`dedupe.claim_both`: a message's raw and content keys claimed with one statement, with the
same answers as claiming them one by one (raw first), on both databases; and the PostgreSQL
race in which another worker's raw key commits after the statement's snapshot."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, select

from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import DedupeKey, InboundMessage
from hubdesk.intake import dedupe
from hubdesk.runtime import Runtime


def _rows(runtime: Runtime, count: int) -> list[int]:
    with runtime.db.transaction() as session:
        return [
            inbound.add_received(session, f"{n:064x}", 10, source="test").id
            for n in range(1, count + 1)
        ]


def _holders(runtime: Runtime) -> dict[str, int]:
    with runtime.db.transaction(write=False) as session:
        rows = session.execute(select(DedupeKey.key, DedupeKey.inbound_id))
        return dict(rows.all())


def _claim(runtime: Runtime, inbound_id: int, raw: str, content: str) -> tuple[str, int] | None:
    with runtime.db.transaction() as session:
        return dedupe.claim_both(session, inbound_id, raw, content)


def test_a_new_message_takes_both_keys_with_one_statement(runtime: Runtime) -> None:
    (row,) = _rows(runtime, 1)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        with runtime.db.transaction() as session:
            session.connection()  # the transaction's own statements are not the claim's
            statements.clear()
            assert dedupe.claim_both(session, row, "raw:a", "msg:a") is None
            claim_statements = list(statements)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)
    assert len(claim_statements) == 1
    assert _holders(runtime) == {"raw:a": row, "msg:a": row}


def test_a_raw_duplicate_is_answered_by_its_bytes_and_never_takes_the_content_key(
    runtime: Runtime,
) -> None:
    first, second = _rows(runtime, 2)
    assert _claim(runtime, first, "raw:a", "msg:a") is None
    # the same bytes with a content key nobody holds: still a duplicate of the bytes
    assert _claim(runtime, second, "raw:a", "msg:other") == ("raw", first)
    assert _holders(runtime) == {"raw:a": first, "msg:a": first}


def test_a_content_duplicate_keeps_its_own_raw_key(runtime: Runtime) -> None:
    first, second = _rows(runtime, 2)
    assert _claim(runtime, first, "raw:a", "msg:a") is None
    assert _claim(runtime, second, "raw:b", "msg:a") == ("content", first)
    assert _holders(runtime) == {"raw:a": first, "msg:a": first, "raw:b": second}


def test_keys_held_before_by_the_same_row_are_ours(runtime: Runtime) -> None:
    """A re-run (reprocess, or a failed message's raw key) claims again without a conflict."""
    (row,) = _rows(runtime, 1)
    assert _claim(runtime, row, "raw:a", "msg:a") is None
    assert _claim(runtime, row, "raw:a", "msg:a") is None
    with runtime.db.transaction() as session:  # only the raw key, as `mark_failed` leaves it
        assert dedupe.claim(session, row, "raw:c") is None
    assert _claim(runtime, row, "raw:c", "msg:c") is None
    assert _holders(runtime) == {"raw:a": row, "msg:a": row, "raw:c": row, "msg:c": row}


def test_a_raw_key_committed_after_the_snapshot_gives_the_content_key_back(
    runtime: Runtime, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("SQLite serialises writers: no second claim runs while one is open")
    first, second = _rows(runtime, 2)
    holding = threading.Event()
    release = threading.Event()

    def other_worker() -> None:
        with runtime.db.transaction() as session:
            assert dedupe.claim(session, first, "raw:a") is None
            holding.set()
            release.wait(30)  # commits while the other claim waits on "raw:a"

    worker = threading.Thread(target=other_worker)
    worker.start()
    assert holding.wait(30)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    answer = _claim(runtime, second, "raw:a", "msg:a")
    waited = time.monotonic() - started
    worker.join(30)
    assert answer == ("raw", first)
    assert waited >= 0.4  # it did wait for the other transaction's raw key
    assert _holders(runtime) == {"raw:a": first}  # "msg:a" was given back


def test_a_claim_made_at_once_writes_its_ledger_row_first_when_still_pending(
    runtime: Runtime,
) -> None:
    """A claim inserted at once on the connection (a key no chunk asked for ahead, such as a
    team's key of a redelivery) refers to its ledger row. A SQLite batch keeps a chunk's
    rows as new objects until its next flush (`inbound.add_received_many`): such a row is
    written first, not left for the foreign key to refuse the claim."""
    with runtime.db.transaction() as session:
        row = InboundMessage(id=4242, source="test", raw_sha256="f" * 64, size=10)
        session.add(row)
        assert dedupe.claim(session, 4242, "team:7:1") is None
        assert dedupe.claim(session, 4242, "team:7:1") is None  # ours already
    assert _holders(runtime) == {"team:7:1": 4242}
