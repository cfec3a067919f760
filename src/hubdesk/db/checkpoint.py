"""A SQLite bulk run's WAL checkpoints, done by a thread of their own.

SQLite copies its write-ahead log into the database file (a checkpoint) inside the commit
that takes the log past 1,000 pages (`wal_autocheckpoint`). A bulk batch writes about 4 MB
of pages, so nearly every batch's commit did one on the ingesting thread: half of that
commit's time (0.1 of 0.2 s for 2,000 mails, `bench/README.md`, "Issue 9, 2026-12-06, sixth
session"). While a bulk run lasts (`Checkpoints`), the connections it writes with do not
checkpoint (`engine.defer_checkpoints`); a thread with a connection of its own does, in
PASSIVE mode (it never waits for a reader or a writer, nor holds one up), after each of the
run's commits and once more as the run ends. SQLite copies and fsyncs without Python's GIL,
so the checkpoint runs beside the ingesting thread.

Nothing a commit promises changes: it returns once its log frames are on disk
(`synchronous=FULL`); a checkpoint only moves committed frames into the database file, and
one that fails or never runs loses nothing (the frames stay in the log, where every reader
finds them, until a later checkpoint). A connection back in the pool checkpoints itself
again (`engine`'s check-in hook). PostgreSQL and in-memory databases have nothing to do here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hubdesk.db.engine import defer_checkpoints, sqlite_file

log = logging.getLogger(__name__)


def _connect(path: Path) -> sqlite3.Connection:
    """The checkpoint thread's own connection (used by that thread alone)."""
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


class Checkpoints:
    """The checkpoint thread of one bulk run (a context manager; nothing on PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self._path: Path | None = sqlite_file(engine)
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._failed = False

    def __enter__(self) -> Checkpoints:
        if self._path is None:
            return self
        try:
            connection = _connect(self._path)
        except sqlite3.Error as exc:  # the run's connections checkpoint as they always did
            log.warning("no checkpoint thread for %s: %s", self._path, exc)
            return self
        self._thread = threading.Thread(
            target=self._run, args=(connection,), name="hubdesk-checkpoint", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join()
            self._thread = None

    def take_over(self, session: Session) -> None:
        """The session's connection leaves its checkpoints to this thread (until it is back
        in the pool). Call it in each of the run's transactions, before its writes."""
        if self._thread is not None and not self._failed:
            defer_checkpoints(session.connection())

    def committed(self) -> None:
        """One of the run's transactions committed: checkpoint what it wrote."""
        self._wake.set()

    def _run(self, connection: sqlite3.Connection) -> None:
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                stopping = self._stopping
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if stopping:
                    return
        except sqlite3.Error as exc:  # nothing is lost: the frames wait in the log
            self._failed = True  # the run's next transactions checkpoint themselves again
            log.warning("checkpointing %s stopped: %s", self._path, exc)
        finally:
            connection.close()
