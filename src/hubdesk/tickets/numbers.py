"""Ticket numbers `TKT-YYYYMMDD-NNN`: the creation date in HUBDESK_TIMEZONE and a per-day
sequence, zero-padded to three digits, that grows to four and more after 999.

The sequence is a counter row per day advanced by one atomic upsert with RETURNING (both
SQLite >= 3.35 and PostgreSQL), never `max()+1`: concurrent writers from many processes
serialise on the counter row and each gets its own value.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

PATTERN: Final = re.compile(r"TKT-(\d{8})-(\d{3,})")
FULL_PATTERN: Final = re.compile(r"\ATKT-\d{8}-\d{3,}\Z")

_NEXT_SQL = text(
    "INSERT INTO tticket_number_counters (day, last_value) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET last_value = tticket_number_counters.last_value + 1 "
    "RETURNING last_value"
)


def format_number(day: str, sequence: int) -> str:
    return f"TKT-{day}-{sequence:03d}"


def creation_day(now: datetime, tz: ZoneInfo) -> str:
    return now.astimezone(tz).strftime("%Y%m%d")


def next_ticket_number(session: Session, now: datetime, tz: ZoneInfo) -> str:
    """Reserve the next number for the day `now` falls on in `tz` (writes the counter)."""
    day = creation_day(now, tz)
    sequence = session.execute(_NEXT_SQL, {"day": day}).scalar_one()
    return format_number(day, int(sequence))


def is_ticket_number(value: str) -> bool:
    return FULL_PATTERN.match(value) is not None
