"""Building the engine: one place that knows the SQLite pragmas and PostgreSQL pooling.

SQLite runs in WAL mode with `synchronous=FULL` (every commit is fsynced before it
returns: what is acknowledged survives a power loss, not only a crash), foreign keys on and
a busy timeout. pysqlite's own transaction
handling is switched off so that we emit BEGIN ourselves: writers use BEGIN IMMEDIATE, which
takes the write lock up front and makes concurrent writers queue on the busy timeout instead
of failing with "database is locked" when a read transaction tries to upgrade.

A new SQLite file is created 0600 (and the directories made for it 0700) whatever the umask,
before SQLite opens it; SQLite gives its `-wal` and `-shm` files the same mode.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

from hubdesk.db import jsontext
from hubdesk.errors import DatabaseUnavailable
from hubdesk.storage.private import ensure_private_file

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "hubdesk_write"
CHECKPOINT_PAGES = 1000
"""A connection checkpoints the WAL in the commit that takes it past this many pages
(SQLite's default), unless a bulk run took its checkpoints over (`db.checkpoint`)."""
_DEFERRED = "hubdesk_checkpoints_deferred"


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url` (already in SQLAlchemy form, see `Settings.sqlalchemy_url`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, echo=echo)
    return create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"connect_timeout": 5},
        json_serializer=jsontext.dumps,
        json_deserializer=jsontext.loads,
    )


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite database file of `engine` (None for PostgreSQL or an in-memory one)."""
    url = engine.url
    return _file_of(url.database) if url.get_backend_name() == "sqlite" else None


def _file_of(database: str | None) -> Path | None:
    """The file a SQLite URL's database names (None: in memory, or a `file:` URI)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().absolute()


def defer_checkpoints(connection: Connection) -> None:
    """`connection` stops checkpointing the WAL in its commits until it is back in the pool
    (then it does again): a thread of `db.checkpoint` does instead."""
    connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
    connection.connection.info[_DEFERRED] = True


def _sqlite_engine(url: str, database: str | None, *, echo: bool) -> Engine:
    path = _file_of(database)
    if path is not None:
        try:
            ensure_private_file(path)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"the database is unavailable: cannot create the SQLite file {path} "
                f"({exc.strerror or exc}); check DATABASE_URL and the directory's permissions"
            ) from exc
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        json_serializer=jsontext.dumps,
        json_deserializer=jsontext.loads,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see module doc
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # FULL: a commit is on disk before it returns, so a 250, a 2xx or an IMAP expunge
        # that follows it survives a power loss too (NORMAL in WAL mode may lose the last
        # commits then). Group commit keeps the fsyncs to one per batch.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: sqlite3.Connection | None, record: Any) -> None:
        if record.info.pop(_DEFERRED, False) and dbapi_connection is not None:
            with contextlib.suppress(sqlite3.Error):  # a broken connection is not used again
                dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
