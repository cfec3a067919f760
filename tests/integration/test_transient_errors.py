"""Errors that mean "run it again", from a real database: a PostgreSQL deadlock aborts one
of two transactions, and the bulk batches must treat it as try-later (re-run the batch), not
as a bad message (marked failed, an attempt spent)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from hubdesk.db.uow import is_transient
from hubdesk.runtime import Runtime


def test_a_deadlock_is_transient(runtime: Runtime, db_kind: str) -> None:
    if db_kind != "postgresql":
        pytest.skip("SQLite serialises writers, so two transactions cannot deadlock")
    both_hold_one = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def lock_in_order(first: int, second: int) -> None:
        try:
            with runtime.db.transaction() as session:
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
                both_hold_one.wait()
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})
        except Exception as exc:  # the one PostgreSQL chose to abort
            errors.append(exc)

    threads = [threading.Thread(target=lock_in_order, args=pair) for pair in ((71, 72), (72, 71))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(errors) == 1
    assert "deadlock detected" in str(errors[0])
    assert is_transient(errors[0])
