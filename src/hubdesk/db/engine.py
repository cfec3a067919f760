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


def _sqlite_engine(url: str, database: str | None, *, echo: bool) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser().absolute()
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
