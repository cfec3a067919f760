"""A per-transaction memo for lookups that every message of a bulk batch repeats.

A bulk batch (`hubdesk.intake.bulk`) is one session and one transaction, so a value kept in
the session's `info` lives exactly as long as the batch: the mailbox addresses, the active
classifier model, the enabled workflows and customers by domain are read once per batch
instead of once per message. A change another process commits is seen by the next batch (the
next session); the one-message paths open a session per message and so see every change at
once. Only rows the pipeline itself never writes are memoised.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "hubdesk_memo"


def memo(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per session (transaction) for `key`, then the kept value."""
    kept: dict[Hashable, Any] = session.info.setdefault(_KEY, {})
    if key not in kept:
        kept[key] = compute()
    value: T = kept[key]
    return value


def forget(session: Session) -> None:
    """Drop everything memoised on `session` (after writing one of the memoised rows)."""
    session.info.pop(_KEY, None)
