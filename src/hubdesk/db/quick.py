"""A bulk batch's short transactions of its own (PostgreSQL).

A batch that would otherwise hold a hot row until it commits (the day's ticket-number
counter, a new sender's contact) writes that row with a statement of its own, committed at
once, on a second connection (`hubdesk.tickets.numbers`, `hubdesk.customers.service`), so
concurrent workers do not queue on it for a whole batch. Such a statement runs on a small
pool of connections kept for it (`engine_for`), which are in autocommit and were opened with
two settings, so that the statement is one round trip to the server:

- it does not wait for the log flush (`synchronous_commit` off): the batch's own commit,
  later, flushes the log past it, and a row lost to a crash was used by no committed batch;
- it waits at most `OWN_LOCK_WAIT` for a row lock (`lock_timeout`). A transaction that has
  held the row that long may itself be waiting for a row the batch holds: a cycle PostgreSQL
  cannot detect, since the batch waits in the client, not in the database. On
  `lock_wait_timed_out` the caller does the write in the batch's own transaction, where a
  real deadlock is seen and broken.

Before this pool the same write was a transaction on a connection of the batch's pool: a
ping at check-out, BEGIN, the settings, the statements and COMMIT, five or six round trips
(0.1 ms each here) for one row (`bench/README.md`, "Issue 9, 2026-12-05 night").
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Engine, Executable, Pool, Row, create_engine
from sqlalchemy.exc import DBAPIError, OperationalError

OWN_LOCK_WAIT: Final = "2s"

_ENGINES: weakref.WeakKeyDictionary[Pool, Engine] = weakref.WeakKeyDictionary()
_LOCK: Final = threading.Lock()


def engine_for(engine: Engine) -> Engine:
    """The pool of `engine`'s database kept for statements of their own. It is kept per
    connection pool (an engine with other execution options shares its parent's), and
    disposed of with that pool (`Engine.dispose` replaces it)."""
    with _LOCK:
        own = _ENGINES.get(engine.pool)
        if own is None:
            own = create_engine(
                engine.url,
                isolation_level="AUTOCOMMIT",
                pool_size=2,
                max_overflow=10,
                connect_args={"connect_timeout": 5, "options": _options(engine)},
            )
            _ENGINES[engine.pool] = own
            weakref.finalize(engine.pool, own.dispose)
        return own


def _options(engine: Engine) -> str:
    """The server settings the connections are opened with: the URL's own `options` (a
    `search_path`, say), which a connect argument of the same name would replace, and ours."""
    given = engine.url.query.get("options", ())
    ours = f"-c synchronous_commit=off -c lock_timeout={OWN_LOCK_WAIT}"
    return " ".join([*([given] if isinstance(given, str) else given), ours])


def dispose(engine: Engine) -> None:
    """Close the connections kept for `engine` (before `engine` itself is disposed)."""
    with _LOCK:
        own = _ENGINES.pop(engine.pool, None)
    if own is not None:
        own.dispose()


def rows(engine: Engine, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
    """Run `statement` on its own, committed at once; its rows (see the module)."""
    return _run(engine, statement, params)[0]


def count(engine: Engine, statement: Executable, params: Mapping[str, Any]) -> int:
    """Run `statement` on its own, committed at once; the rows it changed."""
    return _run(engine, statement, params)[1]


def _run(
    engine: Engine, statement: Executable, params: Mapping[str, Any]
) -> tuple[Sequence[Row[Any]], int]:
    for attempt in (1, 2):
        try:
            with engine_for(engine).connect() as connection:
                result = connection.execute(statement, params)
                return (result.all() if result.returns_rows else []), result.rowcount
        except DBAPIError as exc:
            # a pooled connection the server closed meanwhile (a restart): the pool dropped
            # it, and one new connection is tried (what a ping at check-out would do)
            if attempt == 1 and exc.connection_invalidated:
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def lock_wait_timed_out(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "55P03"  # lock_not_available
