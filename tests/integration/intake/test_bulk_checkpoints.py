"""A bulk run's WAL checkpoints (`hubdesk.db.checkpoint`): on SQLite the run's commits leave
them to a thread of their own, which checkpoints the whole log by the run's end, and a
connection back in the pool checkpoints itself again; on PostgreSQL nothing changes."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from hubdesk.db import checkpoint
from hubdesk.db.checkpoint import Checkpoints
from hubdesk.db.engine import CHECKPOINT_PAGES, sqlite_file
from hubdesk.intake import bulk
from hubdesk.runtime import Runtime
from tests.integration.intake.test_bulk import ONE_BATCH, _sources
from tests.support.databases import Templates, settings_for
from tests.support.mail import raw_mail


def _mails(count: int) -> list[bytes]:
    body = "A long enough request to fill some pages of the log. " * 40
    return [
        raw_mail(subject=f"Request {n}", body=body, sender=f"c{n}@example.com")
        for n in range(count)
    ]


@contextmanager
def _autocheckpoint_at_each_commit() -> Iterator[list[int]]:
    """`wal_autocheckpoint` of each committing SQLite session's connection, as it commits."""
    seen: list[int] = []

    def before_commit(session: Session) -> None:
        if session.get_bind().dialect.name == "sqlite":
            pages = session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
            seen.append(int(pages or 0))

    event.listen(Session, "before_commit", before_commit)
    try:
        yield seen
    finally:
        event.remove(Session, "before_commit", before_commit)


def _tickets_in_the_file_alone(runtime: Runtime) -> int:
    """Tickets the database file holds without its log (what checkpoints moved there)."""
    path = sqlite_file(runtime.db.engine)
    assert path is not None
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM tticket_tickets").fetchone()[0])


def test_a_bulk_run_leaves_its_checkpoints_to_a_thread_and_its_log_checkpointed(
    runtime: Runtime,
) -> None:
    if runtime.db.engine.dialect.name != "sqlite":
        with Checkpoints(runtime.db.engine) as checkpoints:
            assert checkpoints._thread is None  # PostgreSQL: nothing to take over
        return
    with _autocheckpoint_at_each_commit() as seen:
        limits = replace(ONE_BATCH, messages=20)
        outcomes = [o.status for _s, o in bulk.ingest_bulk(runtime, _sources(*_mails(60)), limits)]
    assert outcomes == ["created"] * 60
    assert seen
    assert set(seen) == {0}, "every commit of the run left its checkpoint"
    assert _tickets_in_the_file_alone(runtime) == 60, "the run's end checkpointed its log"
    with runtime.db.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == CHECKPOINT_PAGES, "back in the pool, a connection checkpoints itself"


def test_a_run_without_its_thread_checkpoints_as_before_and_loses_nothing(
    templates: Templates,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SQLite, the thread's connection cannot be opened: the run's commits checkpoint
    themselves, as without the thread."""

    def refused(*_args: Any, **_kwargs: Any) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(checkpoint, "_connect", refused)
    runtime = Runtime.build(settings_for(templates.sqlite_copy(tmp_path / "h.db"), tmp_path))
    try:
        with (
            _autocheckpoint_at_each_commit() as seen,
            caplog.at_level(logging.WARNING, logger="hubdesk.db.checkpoint"),
        ):
            limits = replace(ONE_BATCH, messages=20)
            mails = _sources(*_mails(40))
            outcomes = [o.status for _s, o in bulk.ingest_bulk(runtime, mails, limits)]
    finally:
        runtime.close()
    assert outcomes == ["created"] * 40
    assert seen
    assert set(seen) == {CHECKPOINT_PAGES}
    assert "no checkpoint thread for" in caplog.text
