"""The SQL fragments that differ between SQLite and PostgreSQL (pure string builders).

Times are compared as stored (the indexes on the time columns serve the period filters);
arithmetic on them goes through epoch seconds. Buckets are UTC days and ISO weeks (starting
on Monday), written `YYYY-MM-DD` on both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PERCENTILES: Final = {"median": 0.5, "p90": 0.9}


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
        """The first day of the UTC day or ISO week holding `column`, as 'YYYY-MM-DD'."""
        if self.pg:
            unit = "week" if interval == "week" else "day"
            return f"to_char(date_trunc('{unit}', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
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

    def percentiles(self, values: str, keys: tuple[str, ...]) -> str:
        """SELECT keys..., n, median, p90 FROM the derived table `values` (columns keys...
        and v, v never NULL), one row per distinct key.

        PostgreSQL: `percentile_cont`. SQLite has no percentile aggregate, so the same
        linear interpolation is computed with window functions: within each group the rows
        are numbered in order of v (1..n); the percentile p lies at position
        pos = 1 + (n - 1) * p, between the row lo = floor(pos) and the row lo + 1, and is
        v[lo] + (pos - lo) * (v[lo + 1] - v[lo]). One sort per group, exact (not sampled),
        and it gives the same numbers as percentile_cont.
        """
        key_list = ", ".join(keys)
        if self.pg:
            cols = ", ".join(
                f"percentile_cont({p}) WITHIN GROUP (ORDER BY v) AS {name}"
                for name, p in PERCENTILES.items()
            )
            return f"SELECT {key_list}, COUNT(*) AS n, {cols} FROM {values} GROUP BY {key_list}"
        # One sort serves both windows: the count runs over the same ordered partition.
        ranked = (
            f"SELECT {key_list}, v, ROW_NUMBER() OVER w AS rn, "
            f"COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n "
            f"FROM {values} WINDOW w AS (PARTITION BY {key_list} ORDER BY v)"
        )
        parts = []
        for name, p in PERCENTILES.items():
            pos = f"(1 + (n - 1) * {p})"
            lo = self.floor_int(pos)
            frac = f"({pos} - {lo})"
            parts.append(
                f"SUM(CASE WHEN rn = {lo} THEN v * (1 - {frac}) "
                f"WHEN rn = {lo} + 1 THEN v * {frac} ELSE 0 END) AS {name}"
            )
        return (
            f"SELECT {key_list}, MAX(n) AS n, {', '.join(parts)} "
            f"FROM ({ranked}) ranked GROUP BY {key_list}"
        )
