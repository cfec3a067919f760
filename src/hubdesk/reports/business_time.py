"""Business time in SQL: the opening hours of each SLA policy as a small table of UTC days.

`sla.calendar` knows a policy's opening intervals (time zone, daylight saving, holidays).
For a report we lay them out once per request as rows `(p, d, c, s1, l1, ..., sK, lK)`:
policy p, UTC day number d (epoch seconds // 86400), c = business seconds from the start of
the range to the start of that day, and the day's K opening pieces (start epoch second,
length in seconds; unused pieces have length 0). The business seconds from the start of the
range to a moment x of day d are then

    cum(x) = c + sum over k of clamp(x - s_k, 0, l_k)

and the business time between two moments is cum(b) - cum(a): two equality joins per
ticket, so the whole computation stays one SQL statement over any number of tickets. The
table is passed as a `VALUES` list in a CTE (integers we computed, never user text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from hubdesk.reports.dialect import Dialect
from hubdesk.sla.calendar import BusinessCalendar, day_pieces

DAY = 86400
TEMP_TABLE = "report_calendar"


KEY_DAYS = 100_000
"""k = policy id * KEY_DAYS + day number: one equality key (PostgreSQL's planner joined on
the policy alone and filtered the days, 700 rows per ticket, when given two)."""


def key(policy_id: int, day: int) -> int:
    return policy_id * KEY_DAYS + day


@dataclass(frozen=True)
class CalendarTable:
    pieces: int
    """K: the most opening pieces any UTC day has."""
    rows: list[tuple[int, ...]]
    first: int
    """Epoch second the table starts at (a UTC midnight)."""
    last: int
    """Epoch second it ends at (exclusive, a UTC midnight)."""

    def cte(self) -> str:
        names = self.columns()
        rows = self.rows or [(-1, -1, -1, 0) + (0, 0) * self.pieces]
        values = ",\n".join("(" + ", ".join(str(int(v)) for v in row) + ")" for row in rows)
        return f"cal({', '.join(names)}) AS (VALUES {values})"

    def columns(self) -> list[str]:
        names = ["k", "p", "d", "c"]
        for k in range(1, self.pieces + 1):
            names += [f"s{k}", f"l{k}"]
        return names

    def load_temp(self, session: Session) -> str:
        """SQLite: the table as a TEMP table keyed by k; returns its name.

        SQLite's planner does not always index a materialized CTE on its own (it scanned
        it once per ticket); a primary key makes every lookup a seek. The temp table lives
        in the connection's temp schema, so a read transaction may write it."""
        names = self.columns()
        session.execute(text(f"DROP TABLE IF EXISTS temp.{TEMP_TABLE}"))
        columns = ", ".join(n + " INTEGER NOT NULL" for n in names)
        session.execute(
            text(f"CREATE TEMP TABLE {TEMP_TABLE} ({columns}, PRIMARY KEY (k)) WITHOUT ROWID")
        )
        if self.rows:
            marks = ", ".join(f":{n}" for n in names)
            session.execute(
                text(f"INSERT INTO {TEMP_TABLE} VALUES ({marks})"),
                [dict(zip(names, row, strict=True)) for row in self.rows],
            )
        return f"temp.{TEMP_TABLE}"

    def cumulative(self, alias: str, moment: str, dialect: Dialect) -> str:
        """cum(moment) with the cal row joined as `alias` for moment's policy and day."""
        terms = [f"{alias}.c"]
        for k in range(1, self.pieces + 1):
            inner = dialect.least(f"{moment} - {alias}.s{k}", f"{alias}.l{k}")
            terms.append(dialect.greatest(inner, "0"))
        return " + ".join(terms)


def build(
    calendars: Sequence[tuple[int, BusinessCalendar]], start: datetime, end: datetime
) -> CalendarTable:
    """The table for `calendars` (policy id, calendar) covering the UTC days from `start`'s
    to `end`'s, inclusive."""
    first_day = int(start.astimezone(UTC).timestamp()) // DAY
    last_day = int(end.astimezone(UTC).timestamp()) // DAY + 1
    rows: list[list[int]] = []
    pieces = 1
    for policy_id, calendar in calendars:
        by_day = day_pieces(calendar, first_day, last_day)
        total = 0
        for day in range(first_day, last_day):
            found = by_day.get(day, [])
            pieces = max(pieces, len(found))
            row = [policy_id, day, total]
            for a, length in found:
                row += [a, length]
            rows.append(row)
            total += sum(length for _, length in found)
    padded = []
    for row in rows:
        missing = pieces - (len(row) - 3) // 2
        padded.append((key(row[0], row[1]), *row, *([row[1] * DAY, 0] * missing)))
    return CalendarTable(pieces, padded, first_day * DAY, last_day * DAY)


def span_end(to_exclusive: datetime, now: datetime) -> datetime:
    """How far the table must reach: responses and resolutions happen before now; a
    table reaching more than 400 days past the period is not built (later moments count
    as that day's end)."""
    return max(min(now, to_exclusive + timedelta(days=400)), to_exclusive)
