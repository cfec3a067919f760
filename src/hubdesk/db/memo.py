"""A per-transaction memo for lookups that every message of a bulk batch repeats.

A bulk batch (`hubdesk.intake.bulk`) is one session and one transaction, so a value kept in
the session's `info` lives exactly as long as the batch: the mailbox addresses, the active
classifier model, the enabled workflows and customers by domain are read once per batch
instead of once per message. Invalidation: a change another process commits is seen by the
next batch (the next session); a change written through this session's ORM to a model a
value depends on (`depends_on`) drops that value at the next flush. The one-message paths
open a session per message and so see every change at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "hubdesk_memo"


def memo(
    session: Session, key: Hashable, compute: Callable[[], T], *, depends_on: tuple[type, ...]
) -> T:
    """`compute()` once per session (transaction) for `key`, then the kept value, until
    this session flushes a change to one of the `depends_on` models."""
    kept: dict[Hashable, tuple[Any, tuple[type, ...]]] | None = session.info.get(_KEY)
    if kept is None:
        kept = session.info[_KEY] = {}
        event.listen(session, "before_flush", _drop_changed)
    if key not in kept:
        if _changes_pending(session, depends_on):
            kept[key] = (compute(), depends_on)
        else:  # nothing unwritten it could read: the batch's other rows wait for their flush
            with session.no_autoflush:
                kept[key] = (compute(), depends_on)
    value: T = kept[key][0]
    return value


def _changes_pending(session: Session, models: tuple[type, ...]) -> bool:
    return any(issubclass(kind, models) for kind in _changed_types(session))


def _changed_types(session: Session) -> set[type]:
    groups = (session.new, session.dirty, session.deleted)
    return {type(obj) for group in groups for obj in group}


def _drop_changed(session: Session, _context: object, _instances: object) -> None:
    kept: dict[Hashable, tuple[Any, tuple[type, ...]]] | None = session.info.get(_KEY)
    if not kept:
        return
    changed = _changed_types(session)
    for key, (_value, depends_on) in list(kept.items()):
        if any(issubclass(kind, depends_on) for kind in changed):
            del kept[key]
