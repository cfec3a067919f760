"""A report's parameters, checked: the period, the bucket size and the filters (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from hubdesk.errors import ValidationFailed
from hubdesk.tickets.states import PRIORITIES

MAX_DAYS: Final = 366
"""The longest period a report covers (days, both ends included)."""
DEFAULT_DAYS: Final = 30
INTERVALS: Final = ("day", "week")
WEEKLY_FROM_DAYS: Final = 93
"""Without `interval`, periods of this many days or more are shown by week."""


@dataclass(frozen=True)
class ReportParams:
    start_date: date
    end_date: date
    """Inclusive."""
    interval: str
    customer_id: int | None = None
    priority: str | None = None
    team_id: int | None = None
    """Only the tickets of this team (a user group, docs/teams.md)."""

    @property
    def start(self) -> datetime:
        return datetime.combine(self.start_date, time(0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight (UTC) after the last day."""
        return datetime.combine(self.end_date + timedelta(days=1), time(0), tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def buckets(self) -> list[date]:
        """The first day of every day or ISO week (Monday) of the period."""
        if self.interval == "week":
            day = self.start_date - timedelta(days=self.start_date.weekday())
            step = timedelta(days=7)
        else:
            day, step = self.start_date, timedelta(days=1)
        out = []
        while day <= self.end_date:
            out.append(day)
            day += step
        return out

    def filters(self) -> dict[str, object]:
        return {
            "customer_id": self.customer_id,
            "priority": self.priority,
            "team_id": self.team_id,
        }


def parse_date(value: str, name: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or len(value) != 10:
        raise ValidationFailed(f"{name}={value!r} is not a date; write YYYY-MM-DD, e.g. 2026-01-31")
    return parsed


def check(
    *,
    from_: str | None,
    to: str | None,
    interval: str | None = None,
    customer_id: int | None = None,
    priority: str | None = None,
    team_id: int | None = None,
    today: date,
) -> ReportParams:
    """The parameters as a report takes them, or ValidationFailed saying what to fix.
    Without `to` the period ends today; without `from` it is the DEFAULT_DAYS up to `to`."""
    end = parse_date(to, "to") if to else today
    start = parse_date(from_, "from") if from_ else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationFailed(
            f"from ({start.isoformat()}) is after to ({end.isoformat()}); swap them"
        )
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ValidationFailed(
            f"the period is {days} days long; a report covers at most {MAX_DAYS} days, "
            "so choose a later from or an earlier to"
        )
    if interval is not None and interval not in INTERVALS:
        raise ValidationFailed(f"interval={interval!r} is not known; use day or week")
    if priority is not None and priority not in PRIORITIES:
        raise ValidationFailed(f"priority={priority!r} is not known; use {', '.join(PRIORITIES)}")
    chosen = interval or ("week" if days >= WEEKLY_FROM_DAYS else "day")
    return ReportParams(start, end, chosen, customer_id, priority, team_id)
