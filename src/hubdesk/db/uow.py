"""The unit of work: one transaction, owned by the caller at the edge (CLI, route, pipeline).

Services and repositories receive a `Session`, may flush, and never commit. `Database`
bundles the engine with two session factories: writers get BEGIN IMMEDIATE on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from hubdesk.db import quick
from hubdesk.db.engine import WRITE_OPTION, create_db_engine
from hubdesk.errors import DatabaseUnavailable, StorageUnavailable

# Messages of errors that mean "try again later", not "this input is bad".
_TRANSIENT_MARKERS = (
    "database is locked",
    "database or disk is full",
    "unable to open database file",
    "disk i/o error",
    "connection refused",
    "could not connect",
    "connection timed out",
    "server closed the connection",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "no space left on device",
    "attempt to write a readonly database",
    "connection is closed",
    "consuming input failed",
    # Two transactions waited for each other (PostgreSQL 40P01) or could not be serialised
    # (40001): the one that was aborted succeeds when it runs again.
    "deadlock detected",
    "could not serialize access",
)


def is_transient(exc: BaseException) -> bool:
    """True when `exc` says the database (or the blob store) is unavailable now rather than
    the data being bad."""
    if isinstance(exc, DatabaseUnavailable | StorageUnavailable):
        return True
    if isinstance(exc, StaleDataError):
        # Another transaction wrote the same row first (a ticket's `version` moved on, as in
        # a serialization failure): running the work again sees its change.
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | DBAPIError):
        message = str(exc.orig if exc.orig is not None else exc).lower()
        return any(marker in message for marker in _TRANSIENT_MARKERS)
    return isinstance(exc, OSError)


@dataclass
class Database:
    """The engine and its session factories; built by the entry point, passed down."""

    engine: Engine
    _read: sessionmaker[Session]
    _write: sessionmaker[Session]

    @classmethod
    def connect(cls, url: str, *, echo: bool = False) -> Database:
        engine = create_db_engine(url, echo=echo)
        writer = engine.execution_options(**{WRITE_OPTION: True})
        return cls(
            engine=engine,
            _read=sessionmaker(engine, expire_on_commit=False),
            _write=sessionmaker(writer, expire_on_commit=False),
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session whose work commits when the block ends and rolls back on error.

        A connection-level failure surfaces as `DatabaseUnavailable` so that entry points
        can answer "retry later" (LMTP 451, exit 75, HTTP 503).
        """
        factory = self._write if write else self._read
        session = factory()
        try:
            yield session
            if write:
                session.commit()
            else:
                session.rollback()
        except Exception as exc:
            session.rollback()
            if is_transient(exc) and not isinstance(exc, DatabaseUnavailable | StorageUnavailable):
                raise DatabaseUnavailable(describe_unavailable(exc)) from exc
            raise
        finally:
            session.close()

    def ping(self) -> None:
        """Raise `DatabaseUnavailable` unless a trivial query succeeds."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            raise DatabaseUnavailable(describe_unavailable(exc)) from exc

    def dispose(self) -> None:
        quick.dispose(self.engine)
        self.engine.dispose()


def describe_unavailable(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"the database is unavailable: {type(original).__name__}: {first_line}"
