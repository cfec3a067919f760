"""The Date header (RFC 5322 3.3) as a timezone-aware datetime, or None.

`email.utils.parsedate_tz` does the tolerant parsing (obsolete zone names, two-digit years,
missing weekday) on a bounded prefix of the value. A date without any zone is read as UTC
and recorded (`date_no_timezone`); `-0000` is an explicit "UTC, origin unknown" (RFC 5322
3.3) and is not a defect. ISO 8601 dates written by some scripts are accepted as a fallback.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

_MAX_DATE_CHARS = 200
_ZONE = re.compile(r"[+-]\d{4}\b|\b(?:UT|UTC|GMT|Z|[ECMP][SD]T)\b", re.IGNORECASE)


def parse_date(value: str | None) -> tuple[datetime | None, tuple[str, ...]]:
    """The date of the header value, and defects (`date_unparseable`, `date_no_timezone`)."""
    if value is None:
        return None, ("missing_date",)
    text = " ".join(value[:_MAX_DATE_CHARS].split())
    if not text:
        return None, ("date_unparseable",)
    try:
        parts = parsedate_tz(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        parts = None
    if parts is None:
        return _iso_date(text)
    year, month, day, hour, minute, second = parts[:6]
    offset = parts[9] or 0
    defects: tuple[str, ...] = ()
    clock = text.split(":", 1)[-1]
    if _ZONE.search(clock) is None:
        defects = ("date_no_timezone",)
    try:
        zone = timezone(timedelta(seconds=offset))
        return datetime(year, month, day, hour, minute, second, tzinfo=zone), defects
    except (ValueError, OverflowError):
        return None, ("date_unparseable",)


def _iso_date(text: str) -> tuple[datetime | None, tuple[str, ...]]:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, ("date_unparseable",)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC), ("date_no_timezone",)
    return moment, ()
