"""Business-hours arithmetic (pure): when does N business minutes after a moment end, and
how many business minutes lie between two moments, in a policy's calendar.

A calendar is weekly opening windows in local time, a time zone, custom closed days and
optionally a country's public holidays (the `holidays` package; `"DK"` for Denmark). Windows
are turned into real UTC intervals day by day, so a day on which daylight saving time starts
or ends counts the hours it really has. Pauses (the ticket waiting for the customer) are UTC
intervals cut out of the business time; an open pause (no end) runs to the end of time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from hubdesk.errors import ValidationFailed

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS: Final = 3 * 366
"""How far a computation looks ahead before deciding a target cannot be reached."""
END_OF_DAY: Final = "24:00"

Interval = tuple[datetime, datetime | None]
"""A UTC interval [start, end); end None is open (a pause still running)."""


@dataclass(frozen=True)
class Window:
    """One opening window of a weekday, local wall-clock minutes since midnight."""

    start: int
    end: int


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str
    hours: Mapping[int, tuple[Window, ...]]
    """Weekday (0 = Monday) -> its windows, sorted and not overlapping."""
    closed_days: frozenset[date] = field(default_factory=frozenset)
    country_holidays: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_closed(self, day: date) -> bool:
        if day in self.closed_days:
            return True
        return self.country_holidays is not None and day in _country(
            self.country_holidays, day.year
        )

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening windows as UTC intervals (none on a closed day)."""
        if self.is_closed(day):
            return []
        tz = self.tz
        out = []
        for window in self.hours.get(day.weekday(), ()):
            start = _local(day, window.start, tz)
            end = _local(day, window.end, tz)
            if end > start:
                out.append((start, end))
        return out

    def open_intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The opening intervals from `start` on (the first one cut at `start`), for at
        most `MAX_DAYS` days."""
        start = start.astimezone(UTC)
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(MAX_DAYS + 2):
            for begin, end in self.day_intervals(day):
                if end > start:
                    yield max(begin, start), end
            day += timedelta(days=1)

    def add_minutes(
        self, start: datetime, minutes: int, pauses: Sequence[Interval] = ()
    ) -> datetime | None:
        """The moment `minutes` business minutes after `start`, not counting pauses; None
        when the clock is paused for good (an open pause) before the minutes run out."""
        remaining = timedelta(minutes=minutes)
        start = start.astimezone(UTC)
        if remaining <= timedelta(0):
            return _skip_pauses(start, pauses)
        for begin, end in self.open_intervals(start):
            for piece_start, piece_end in _subtract(begin, end, pauses):
                length = piece_end - piece_start
                if length >= remaining:
                    return piece_start + remaining
                remaining -= length
            if _open_pause_before(end, pauses):
                return None
        raise ValidationFailed(
            f"the calendar has no opening hours within {MAX_DAYS} days of {start.isoformat()}"
        )

    def minutes_between(
        self, start: datetime, end: datetime, pauses: Sequence[Interval] = ()
    ) -> float:
        """Business minutes from `start` to `end` (0 when end is not after start)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta(0)
        if end <= start:
            return 0.0
        for begin, stop in self.open_intervals(start):
            if begin >= end:
                break
            for piece_start, piece_end in _subtract(begin, min(stop, end), pauses):
                total += piece_end - piece_start
        return total.total_seconds() / 60


def parse_hhmm(value: str) -> int:
    """`"08:30"` -> 510; `"24:00"` (end of day) -> 1440; ValidationFailed otherwise."""
    if value == END_OF_DAY:
        return 24 * 60
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a time of day; write HH:MM, e.g. 08:00") from None
    if len(value) != 5 or parsed.second or parsed.microsecond:
        raise ValidationFailed(f"{value!r} is not a time of day; write HH:MM, e.g. 08:00")
    return parsed.hour * 60 + parsed.minute


def build_calendar(
    timezone: str,
    hours: Mapping[str, Sequence[Sequence[str]]],
    holidays_: Sequence[str] = (),
    country_holidays: str | None = None,
) -> BusinessCalendar:
    """A calendar from the API's shape, or ValidationFailed saying what to fix."""
    check_timezone(timezone)
    unknown = sorted(set(hours) - set(DAYS))
    if unknown:
        raise ValidationFailed(
            f"calendar.hours has unknown day(s) {', '.join(unknown)}; use {', '.join(DAYS)}"
        )
    weekly: dict[int, tuple[Window, ...]] = {}
    for index, name in enumerate(DAYS):
        windows: list[Window] = []
        for pair in hours.get(name, ()):
            if len(pair) != 2:
                raise ValidationFailed(
                    f"calendar.hours.{name}: each window is [start, end], e.g. ['08:00', '16:00']"
                )
            window = Window(parse_hhmm(pair[0]), parse_hhmm(pair[1]))
            if window.start >= window.end:
                raise ValidationFailed(
                    f"calendar.hours.{name}: window {pair[0]}-{pair[1]} ends before it starts"
                )
            if windows and window.start < windows[-1].end:
                raise ValidationFailed(
                    f"calendar.hours.{name}: windows must be sorted and must not overlap "
                    f"({pair[0]} starts before the previous window ends)"
                )
            windows.append(window)
        weekly[index] = tuple(windows)
    if not any(weekly.values()):
        raise ValidationFailed("calendar.hours has no opening hours at all; add at least one")
    closed = set()
    for value in holidays_:
        try:
            closed.add(date.fromisoformat(value))
        except ValueError:
            raise ValidationFailed(
                f"calendar.holidays: {value!r} is not a date; write YYYY-MM-DD"
            ) from None
    if country_holidays is not None:
        check_country(country_holidays)
    return BusinessCalendar(timezone, weekly, frozenset(closed), country_holidays)


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"calendar.timezone {name!r} is not a known IANA time zone; e.g. Europe/Copenhagen"
        ) from None


def check_country(code: str) -> None:
    if code not in holidays.list_supported_countries():
        raise ValidationFailed(
            f"calendar.country_holidays {code!r} is not a supported country code; "
            "use an ISO 3166 code such as DK, or null"
        )


def warning_minutes(target: int, percent: int) -> int:
    """The business minutes after which a target of `target` minutes is at `percent`."""
    return max(0, math.ceil(target * percent / 100))


@lru_cache(maxsize=256)
def _country(code: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(code, years=year))


def _local(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """Local wall-clock `minutes` after midnight of `day`, in UTC (24:00 = next midnight)."""
    if minutes >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return moment.astimezone(UTC)


def _subtract(
    begin: datetime, end: datetime, pauses: Sequence[Interval]
) -> Iterator[tuple[datetime, datetime]]:
    """[begin, end) minus every pause, in order."""
    pieces = [(begin, end)]
    for pause_start, pause_end in sorted(pauses, key=lambda p: p[0]):
        stop = pause_end or datetime.max.replace(tzinfo=UTC)
        cut: list[tuple[datetime, datetime]] = []
        for a, b in pieces:
            if stop <= a or pause_start >= b:
                cut.append((a, b))
                continue
            if pause_start > a:
                cut.append((a, pause_start))
            if stop < b:
                cut.append((stop, b))
        pieces = cut
    yield from pieces


def _open_pause_before(moment: datetime, pauses: Sequence[Interval]) -> bool:
    return any(end is None and start <= moment for start, end in pauses)


def _skip_pauses(moment: datetime, pauses: Sequence[Interval]) -> datetime | None:
    for start, end in sorted(pauses, key=lambda p: p[0]):
        if start <= moment and (end is None or end > moment):
            if end is None:
                return None
            moment = end
    return moment


# --- business seconds between whole epoch seconds (the reports' arithmetic) ----------------

UTC_DAY: Final = 86400


def day_pieces(
    calendar: BusinessCalendar, first_day: int, last_day: int
) -> dict[int, list[tuple[int, int]]]:
    """The opening pieces of the UTC days first_day .. last_day - 1 (day numbers: epoch
    seconds // 86400), each day's as (start epoch second, length in seconds), cut at UTC
    midnights. The reports lay these out as a SQL table (reports/business_time.py); the
    per-ticket facts (sla/report_facts.py) sum the same pieces in Python."""
    by_day: dict[int, list[tuple[int, int]]] = {}
    begin = datetime.fromtimestamp(first_day * UTC_DAY, UTC)
    for opens, closes in calendar.open_intervals(begin):
        a, b = int(opens.timestamp()), int(closes.timestamp())
        if a >= last_day * UTC_DAY:
            break
        while a < b:  # split at UTC midnights
            day = a // UTC_DAY
            cut = min(b, (day + 1) * UTC_DAY)
            if day < last_day:
                by_day.setdefault(day, []).append((a, cut - a))
            a = cut
    return by_day


def business_seconds(calendar: BusinessCalendar, a: int, b: int) -> int:
    """Business seconds of `calendar` from epoch second `a` to `b` (0 when b <= a): the
    overlap of [a, b) with the opening pieces, exactly what the reports' SQL computes as
    cum(b) - cum(a) over `day_pieces`."""
    if b <= a:
        return 0
    total = 0
    pieces = day_pieces(calendar, a // UTC_DAY, b // UTC_DAY + 1)
    for found in pieces.values():
        for start, length in found:
            total += max(0, min(b, start + length) - max(a, start))
    return total
