"""Reads that flush only what they read.

A query autoflushes every pending write of the session first, so that it sees them. On the
bulk path (`hubdesk.intake.bulk`, one session for a whole batch) the reads at the start of a
message (the threading look-up, the new-ticket throttle) would each flush the previous
message's unrelated rows (its ledger row's fate, an SLA clock, a participant) in a flush of
their own: 1.6 of the 2.3 ORM flushes an email cost in `bench/statements.py` were these.
`touching` flushes only when a pending write is to one of the tables a statement reads (or
inserts into), and otherwise leaves the writes for the session's next flush, which then
writes them together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from itertools import chain

from sqlalchemy.orm import Session


@contextlib.contextmanager
def touching(session: Session, *models: type) -> Iterator[Session]:
    """For statements on the tables of `models` alone: flush first if a pending new, changed
    or deleted object is one of `models`, then run them without an autoflush."""
    pending = chain(session.new, session.dirty, session.deleted)
    if any(isinstance(obj, models) for obj in pending):
        session.flush()
    with session.no_autoflush:
        yield session
