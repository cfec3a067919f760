"""The SQL fragments that differ between SQLite and PostgreSQL (pure string builders).

Times are compared as stored (the indexes on the time columns serve the period filters);
arithmetic on them goes through epoch seconds. Buckets are UTC days and ISO weeks (starting
on Monday), written `YYYY-MM-DD` on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

PERCENTILES: Final = {"median": 0.5, "p90": 0.9}


def day_key(value: object) -> object:
    """A bucket as 'YYYY-MM-DD' (PostgreSQL hands back dates); anything else unchanged."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    return value


@dataclass(frozen=True)
class Dialect:
    name: str

    @property
    def pg(self) -> bool:
        return self.name == "postgresql"

    def epoch(self, column: str) -> str:
        """Whole epoch seconds of a stored UTC time (NULL stays NULL)."""
        if self.pg:
            return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
        return f"unixepoch({column})"

    def bucket(self, column: str, interval: str) -> str:
        """The first day of the UTC day or ISO week holding `column`: a DATE on PostgreSQL
        (cheaper per row than formatting it), 'YYYY-MM-DD' text on SQLite; `day_key` makes
        both a 'YYYY-MM-DD' string."""
        if self.pg:
            unit = "week" if interval == "week" else "day"
            return f"CAST(date_trunc('{unit}', {column} AT TIME ZONE 'UTC') AS DATE)"
        if interval == "week":
            return f"date({column}, 'weekday 0', '-6 days')"
        return f"date({column})"

    def floor_int(self, expr: str) -> str:
        return f"CAST(FLOOR({expr}) AS BIGINT)" if self.pg else f"CAST({expr} AS INTEGER)"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"MIN({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    def json_length(self, column: str) -> str:
        return f"jsonb_array_length({column})" if self.pg else f"json_array_length({column})"

    def true(self) -> str:
        return "TRUE" if self.pg else "1"

    def percentiles(self, values: str, keys: tuple[str, str]) -> str:
        """The end of a WITH statement whose CTE `values` has columns m, g, v (v never
        NULL): SELECT m, g, n, median, p90, one row per (m, g) and one per m over every g
        (g NULL). It may add CTEs of its own, so it starts with a comma or a SELECT.

        PostgreSQL: `percentile_cont` over the exact values, both levels in one pass
        (GROUPING SETS), the overall rows after the others (callers key them by g, and an
        overall row wins over a group whose g is NULL, as with the UNION ALL before).

        SQLite has no percentile aggregate, and ordering every value with window functions
        took seconds at 200,000 tickets. So it uses a bounded histogram: values rounded to
        the whole minute are counted per (m, g, minute) with one GROUP BY; the overall
        histogram is summed from it; a running sum over each (much smaller) histogram gives
        every minute's last position. The percentile p lies at position
        pos = 1 + (n - 1) * p, between the values at positions lo = floor(pos) and lo + 1,
        each the smallest minute whose running count reaches it, and is
        v[lo] + (pos - lo) * (v[lo + 1] - v[lo]): percentile_cont's interpolation, on
        values at most half a minute from the exact ones (the reports show hundredths of
        an hour, 0.6 minutes)."""
        m, g = keys
        if self.pg:
            cols = ", ".join(
                f"percentile_cont({p}) WITHIN GROUP (ORDER BY v) AS {name}"
                for name, p in PERCENTILES.items()
            )
            # One pass for both levels (GROUPING SETS), the overall rows last as before.
            return (
                f"\nSELECT {m}, {g}, n, median, p90 FROM (SELECT {m}, {g}, "
                f"GROUPING({g}) AS overall, COUNT(*) AS n, {cols} FROM {values} "
                f"GROUP BY GROUPING SETS (({m}, {g}), ({m}))) levels ORDER BY overall"
            )
        hist = (
            f"SELECT {m} AS m, {g} AS g, CAST(ROUND(v) AS INTEGER) AS v, COUNT(*) AS c "
            f"FROM {values} GROUP BY 1, 2, 3"
        )
        both = "SELECT m, g, v, c FROM h UNION ALL SELECT m, NULL, v, SUM(c) FROM h GROUP BY m, v"
        running = (
            "SELECT m, g, v, SUM(c) OVER (PARTITION BY m, g ORDER BY v "
            "ROWS UNBOUNDED PRECEDING) AS upto, SUM(c) OVER (PARTITION BY m, g) AS n "
            "FROM hb"
        )
        picks = []
        finals = []
        for name, p in PERCENTILES.items():
            pos = f"(1 + (n - 1) * {p})"
            lo = self.floor_int(pos)
            picks.append(f"MIN(CASE WHEN upto >= {lo} THEN v END) AS {name}_lo")
            picks.append(f"MIN(CASE WHEN upto >= {lo} + 1 THEN v END) AS {name}_hi")
            picks.append(f"MAX({pos} - {lo}) AS {name}_frac")
            finals.append(
                f"{name}_lo + {name}_frac * (COALESCE({name}_hi, {name}_lo) - {name}_lo) AS {name}"
            )
        return (
            f", h AS ({hist}), hb AS ({both})\n"
            f"SELECT m, g, n, {', '.join(finals)} FROM ("
            f"SELECT m, g, MAX(n) AS n, {', '.join(picks)} FROM ({running}) r GROUP BY m, g"
            f") picked"
        )
