"""A bulk batch's short transactions of its own (PostgreSQL).

A batch that would otherwise hold a hot row until it commits (the day's ticket-number
counter, a new sender's contact) writes that row in a short transaction on a second
connection instead (`hubdesk.tickets.numbers`, `hubdesk.customers.service`), so concurrent
workers do not queue on it for a whole batch. Such a transaction:

- does not wait for the log flush (`synchronous_commit` off): the batch's own commit, later,
  flushes the log past it, and a row lost to a crash was used by no committed batch;
- waits at most `OWN_LOCK_WAIT` for a row lock. A transaction that has held the row that long
  may itself be waiting for a row the batch holds: a cycle PostgreSQL cannot detect, since
  the batch waits in the client, not in the database. On `lock_wait_timed_out` the caller
  does the write in the batch's own transaction, where a real deadlock is seen and broken.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

OWN_LOCK_WAIT: Final = "2s"

_QUICK: Final = text(
    "SELECT set_config('synchronous_commit', 'off', true), set_config('lock_timeout', :wait, true)"
)


def begin_quick(connection: Connection) -> None:
    """Make the transaction just begun on `connection` a short one (see the module)."""
    connection.execute(_QUICK, {"wait": OWN_LOCK_WAIT})


def lock_wait_timed_out(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "55P03"  # lock_not_available
