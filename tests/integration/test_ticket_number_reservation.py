"""How a bulk batch reserves ticket numbers (`hubdesk.tickets.numbers`), on both databases.

On PostgreSQL a batch reserves its numbers a block at a time with a statement of its own, so
another writer numbering a ticket meanwhile does not wait for the batch; on either database a number
whose batch rolled back is the next batch's, so rolled-back work leaves no gap."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from hubdesk.db import deferred
from hubdesk.runtime import Runtime
from hubdesk.tickets import numbers
from hubdesk.tickets.numbers import next_ticket_number

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


class _Rollback(Exception):
    pass


def _batch_number(runtime: Runtime, *, then_fail: bool) -> str:
    """A number taken in a bulk batch's transaction (deferred writes on), committed or not."""
    try:
        with runtime.db.transaction() as session:
            deferred.enable(session)
            number = next_ticket_number(session, NOW, UTC_ZONE)
            if then_fail:
                raise _Rollback(number)
            deferred.flush(session)
    except _Rollback:
        pass
    return number


def test_a_rolled_back_batch_leaves_its_number_to_the_next(runtime: Runtime) -> None:
    first = _batch_number(runtime, then_fail=False)
    lost = _batch_number(runtime, then_fail=True)
    again = _batch_number(runtime, then_fail=False)
    after = _batch_number(runtime, then_fail=False)
    assert first == "TKT-20261205-001"
    assert lost == again == "TKT-20261205-002"
    assert after == "TKT-20261205-003"


def test_on_postgresql_a_batch_does_not_hold_the_counter_while_it_runs(
    runtime: Runtime,
) -> None:
    """While a batch that numbered a ticket is still open, another transaction numbers its
    own ticket at once (PostgreSQL); on SQLite the batch holds the whole database, and the
    other writer gets the next number after the batch commits."""
    postgres = runtime.db.engine.dialect.name == "postgresql"
    numbered, release, done = threading.Event(), threading.Event(), threading.Event()
    taken: list[str] = []

    def batch() -> None:
        with runtime.db.transaction() as session:
            deferred.enable(session)
            taken.append(next_ticket_number(session, NOW, UTC_ZONE))
            numbered.set()
            release.wait(30)
            deferred.flush(session)
        done.set()

    worker = threading.Thread(target=batch)
    worker.start()
    try:
        assert numbered.wait(30)
        if postgres:
            with runtime.db.transaction() as session:
                session.execute(text("SET LOCAL lock_timeout = '5s'"))
                other = next_ticket_number(session, NOW, UTC_ZONE)
            assert not done.is_set()  # the batch is still open
        else:
            release.set()
            worker.join(30)
            with runtime.db.transaction() as session:
                other = next_ticket_number(session, NOW, UTC_ZONE)
    finally:
        release.set()
        worker.join(30)
    assert taken == ["TKT-20261205-001"]
    assert other == "TKT-20261205-002"


def test_a_batch_takes_its_numbers_itself_when_the_counter_is_held_long(
    runtime: Runtime,
) -> None:
    """Another transaction holds the day's counter row for longer than a batch's short
    transaction waits (`db.quick.OWN_LOCK_WAIT`, PostgreSQL): the batch then takes its
    numbers in its own transaction, which waits for the holder's commit (a real deadlock
    there would be seen by the database), and goes on after it; rolled back, those numbers
    go back with it. On SQLite the batch waits for the holder's commit all the same."""
    holding = threading.Event()
    taken: list[str] = []

    def holder() -> None:
        with runtime.db.transaction() as session:
            next_ticket_number(session, NOW, UTC_ZONE)  # the counter row, held
            holding.set()
            time.sleep(3)  # longer than OWN_LOCK_WAIT (2 s)

    def batch_that_fails() -> None:
        with runtime.db.transaction() as session:
            deferred.enable(session)
            taken.append(next_ticket_number(session, NOW, UTC_ZONE))  # after the holder's
            taken.append(next_ticket_number(session, NOW, UTC_ZONE))
            raise _Rollback

    worker = threading.Thread(target=holder)
    worker.start()
    try:
        assert holding.wait(30)
        with pytest.raises(_Rollback):
            batch_that_fails()
    finally:
        worker.join(30)
    assert taken == ["TKT-20261205-002", "TKT-20261205-003"]
    with runtime.db.transaction(write=False) as session:  # taken in the batch: rolled back
        counter = session.scalar(text("SELECT last_value FROM tticket_number_counters"))
    assert counter == 1
    assert _batch_number(runtime, then_fail=False) == "TKT-20261205-002"


def _numbers_in_batch(
    runtime: Runtime, expected: int, taken: int, meanwhile: list[str] | None = None
) -> list[str]:
    """A bulk batch told to expect `expected` new tickets numbers `taken`; on PostgreSQL
    another writer numbers a ticket while it is open (appended to `meanwhile`)."""
    with runtime.db.transaction() as session:
        deferred.enable(session)
        numbers.expect(session, expected)
        got = [next_ticket_number(session, NOW, UTC_ZONE) for _ in range(taken)]
        if runtime.db.engine.dialect.name == "postgresql" and meanwhile is not None:
            with runtime.db.transaction() as other:
                meanwhile.append(next_ticket_number(other, NOW, UTC_ZONE))
        deferred.flush(session)
    return got


def _other_writer(runtime: Runtime) -> str:
    with runtime.db.transaction() as session:
        return next_ticket_number(session, NOW, UTC_ZONE)


def test_a_blocks_unused_end_goes_back_unless_another_writer_numbered_after_it(
    runtime: Runtime,
) -> None:
    """On PostgreSQL a batch reserves a block (here three) and, when it ends, gives the
    numbers it did not use back to the counter: the next writer goes on from its last. When
    another writer numbered a ticket after the block, the counter cannot go back; the unused
    numbers stay this process's and its next batch takes them. Numbers are never given
    twice. (On SQLite a batch holds the counter itself: the numbers simply follow on.)"""
    postgres = runtime.db.engine.dialect.name == "postgresql"
    first = _numbers_in_batch(runtime, expected=3, taken=1)
    assert first == ["TKT-20261205-001"]
    assert _other_writer(runtime) == "TKT-20261205-002"  # 2 and 3 went back
    meanwhile: list[str] = []
    second = _numbers_in_batch(runtime, expected=3, taken=1, meanwhile=meanwhile)
    assert second == ["TKT-20261205-003"]
    # on PostgreSQL after the block 3..5; 4 and 5 could not go back, and this process's
    # next batch takes them
    assert meanwhile == (["TKT-20261205-006"] if postgres else [])
    assert _numbers_in_batch(runtime, 1, 2) == ["TKT-20261205-004", "TKT-20261205-005"]
    assert _other_writer(runtime) == ("TKT-20261205-007" if postgres else "TKT-20261205-006")
