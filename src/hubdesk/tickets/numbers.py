"""Ticket numbers `TKT-YYYYMMDD-NNN`: the creation date in HUBDESK_TIMEZONE and a per-day
sequence, zero-padded to three digits, that grows to four and more after 999.

The sequence is a counter row per day advanced by one atomic upsert with RETURNING (both
SQLite >= 3.35 and PostgreSQL), never `max()+1`: concurrent writers from many processes
serialise on the counter row and each gets its own value.

In a bulk batch (a session with `hubdesk.db.deferred` enabled) only a day's first number
is reserved by the upsert; it locks the counter row until the batch commits (SQLite: the
whole database is the batch's), so the batch's further numbers are counted on in memory and
the counter is advanced once, by one UPDATE right before the commit. What a message took is
given back when its savepoint rolls back (`deferred.rollback_to`), so the numbers of a
batch stay consecutive when a message in its middle fails; if the savepoint that made the
upsert rolls back, the next ticket reserves by the upsert again.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from hubdesk.db import deferred

PATTERN: Final = re.compile(r"TKT-(\d{8})-(\d{3,})")
FULL_PATTERN: Final = re.compile(r"\ATKT-\d{8}-\d{3,}\Z")

_NEXT_SQL = text(
    "INSERT INTO tticket_number_counters (day, last_value) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET last_value = tticket_number_counters.last_value + 1 "
    "RETURNING last_value"
)
_ADVANCE_SQL = text(
    "UPDATE tticket_number_counters SET last_value = last_value + :taken WHERE day = :day "
    "RETURNING last_value"
)
_HELD: Final = "ticket_number_counters"
"""deferred key: day -> (the value the batch's upsert returned, numbers taken after it)"""


def format_number(day: str, sequence: int) -> str:
    return f"TKT-{day}-{sequence:03d}"


def creation_day(now: datetime, tz: ZoneInfo) -> str:
    return now.astimezone(tz).strftime("%Y%m%d")


def next_ticket_number(session: Session, now: datetime, tz: ZoneInfo) -> str:
    """Reserve the next number for the day `now` falls on in `tz` (writes the counter)."""
    day = creation_day(now, tz)
    held: tuple[int, int] | None = deferred.get(session, _HELD, day)
    if held is not None:  # this batch holds the day's counter row: count on in memory
        base, taken = held
        deferred.put(session, _HELD, day, (base, taken + 1), _advance)
        return format_number(day, base + taken + 1)
    sequence = int(session.execute(_NEXT_SQL, {"day": day}).scalar_one())
    deferred.put(session, _HELD, day, (sequence, 0), _advance)
    return format_number(day, sequence)


def _advance(session: Session, held: Mapping[Hashable, tuple[int, int]]) -> None:
    """At the batch's end: advance each day's counter past the numbers taken in memory."""
    for day, (base, taken) in held.items():
        if not taken:
            continue
        last = session.execute(_ADVANCE_SQL, {"day": day, "taken": taken}).scalar_one_or_none()
        if last != base + taken:  # pragma: no cover - the batch holds the row's lock
            raise RuntimeError(f"ticket number counter of {day} moved under the batch: {last}")


def is_ticket_number(value: str) -> bool:
    return FULL_PATTERN.match(value) is not None
