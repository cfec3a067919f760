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

    def bucket_key(self, column: str, interval: str) -> tuple[str, str | None]:
        """(key, label) for grouping by the bucket of `column` where sorting counts (the
        percentiles): on SQLite the key is the bucket's first day as an integer day number
        (cheaper to compute and to sort than date text), and `label` is the SQL template
        turning such a key back into the 'YYYY-MM-DD' text of `bucket` (None on PostgreSQL,
        whose key is `bucket` itself)."""
        if self.pg:
            return self.bucket(column, interval), None
        label = "date({} * 86400, 'unixepoch')"
        if interval == "week":  # weeks counted from Monday 1969-12-29 (day -3), 7 days each
            return f"(((unixepoch({column}) + 259200) / 604800) * 7 - 3)", label
        return f"(unixepoch({column}) / 86400)", label

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

    def percentiles(
        self, values: str, group: str, metrics: dict[str, str], label: str | None = None
    ) -> str:
        """The end of a WITH statement whose CTE `values` has the column `group` and one
        column of seconds per metric (`metrics`: metric name -> column, NULL where the
        ticket has none): SELECT m, g, n, median, p90 of the minutes (seconds / 60.0), one
        row per (metric, group) with values and one per metric over every group (g NULL).
        It may add CTEs of its own, so it starts with a comma or a SELECT.

        PostgreSQL: `percentile_cont` over the exact values (sorted as the stored integer
        seconds, a third faster than sorting them converted to numeric minutes; the
        percentiles are divided by 60 afterwards), every metric's percentiles
        from one sort per group (the array form), both levels in one pass (GROUPING SETS),
        the overall rows after the others (callers key them by g, and an overall row wins
        over a group whose g is NULL).

        SQLite has no percentile aggregate, and ordering every value with window functions
        took seconds at 200,000 tickets. So it uses a bounded histogram: values rounded to
        the whole minute are counted per (m, g, minute) with one GROUP BY per metric; the
        overall histogram is summed from it; a running sum over each (much smaller)
        histogram gives every minute's last position. The percentile p lies at position
        pos = 1 + (n - 1) * p, between the values at positions lo = floor(pos) and lo + 1,
        each the smallest minute whose running count reaches it, and is
        v[lo] + (pos - lo) * (v[lo + 1] - v[lo]): percentile_cont's interpolation, on
        values at most half a minute from the exact ones (the reports show hundredths of
        an hour, 0.6 minutes). The overall rows come last here too (before, a group whose g
        is NULL, such as the unassigned tickets of `agents`, was counted into them)."""
        g = group
        if self.pg:
            wanted = ", ".join(str(p) for p in PERCENTILES.values())
            aggregates = ", ".join(
                f"COUNT({column}) AS n_{i}, percentile_cont(ARRAY[{wanted}]) WITHIN GROUP "
                f"(ORDER BY {column}) AS q_{i}"
                for i, column in enumerate(metrics.values())
            )
            picked = ", ".join(
                f"('{name}', n_{i}, "
                + ", ".join(f"q_{i}[{k + 1}] / 60" for k in range(len(PERCENTILES)))
                + ")"
                for i, name in enumerate(metrics)
            )
            names = ", ".join(PERCENTILES)
            return (
                f"\nSELECT pick.m AS m, levels.{g} AS g, pick.n AS n, "
                f"{', '.join(f'pick.{n} AS {n}' for n in PERCENTILES)} FROM (SELECT {g}, "
                f"GROUPING({g}) AS overall, {aggregates} FROM {values} "
                f"GROUP BY GROUPING SETS (({g}), ())) levels "
                f"CROSS JOIN LATERAL (VALUES {picked}) AS pick(m, n, {names}) "
                f"WHERE pick.n > 0 ORDER BY levels.overall"
            )
        # SQLite: the wide rows become one row per (metric, value) (each row joined to the
        # metrics' positions), then the histogram of `histogram_percentiles`.
        picked_value = (
            "CASE x.i "
            + " ".join(f"WHEN {i} THEN {column}" for i, column in enumerate(metrics.values()))
            + " END"
        )
        positions = " UNION ALL ".join(f"SELECT {i} AS i" for i in range(len(metrics)))
        long = (
            f", long_values AS NOT MATERIALIZED (SELECT x.i AS i, {g} AS g, {picked_value} AS s "
            f"FROM {values} CROSS JOIN ({positions}) x)"
        )
        return long + self.histogram_percentiles("long_values", "g", list(metrics), label)

    def histogram_percentiles(
        self, values: str, group: str, metric_names: list[str], label: str | None = None
    ) -> str:
        """SQLite's end of `percentiles` over rows in long form: the CTE `values` has the
        columns i (the metric's position in `metric_names`), `group`, and s (seconds, NULL
        rows skipped). Same output as `percentiles`. Callers that can produce the long form
        directly (reports.service, one index scan per metric) skip the wide form's join.

        Integers from the values to the last step, decoded only on the few result rows:
        each value becomes one key, metric * 2^61 + (group + 1) * 2^32 + minute (group 0
        for a NULL group), counted with one sort; the histogram is then keyed by mg =
        metric * 2^29 + group slot, the overall histogram of a metric taking the last slot.
        SQLite sorts one integer key over twice as fast as separate or text columns (a
        week's date, the metric's name). The group must be a non-negative integer below
        2^29 - 2 here (`label` turns it back into the caller's key); minutes are below 2^32."""
        g = group
        slots = 1 << 29
        overall = slots - 1
        key = f"i * {1 << 61} + COALESCE({g} + 1, 0) * {1 << 32} + CAST(ROUND(s / 60.0) AS INTEGER)"
        hist = (
            f"SELECT k / {1 << 32} AS mg, k % {1 << 32} AS v, COUNT(*) AS c "
            f"FROM (SELECT {key} AS k FROM {values} WHERE s IS NOT NULL) GROUP BY k"
        )
        both = (
            "SELECT mg, v, c FROM h UNION ALL "
            f"SELECT mg / {slots} * {slots} + {overall}, v, SUM(c) FROM h "
            f"GROUP BY mg / {slots}, v"
        )
        running = (
            "SELECT mg, v, SUM(c) OVER (PARTITION BY mg ORDER BY v ROWS UNBOUNDED PRECEDING) "
            "AS upto, SUM(c) OVER (PARTITION BY mg ORDER BY v ROWS BETWEEN UNBOUNDED "
            "PRECEDING AND UNBOUNDED FOLLOWING) AS n FROM hb"
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
        metric_name = (
            f"CASE mg / {slots} "
            + " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(metric_names))
            + " END"
        )
        slot = f"(mg % {slots})"
        shown = label.format(f"({slot} - 1)") if label else f"({slot} - 1)"
        return (
            f", h AS ({hist}), hb AS ({both})\n"
            f"SELECT {metric_name} AS m, CASE WHEN {slot} IN (0, {overall}) THEN NULL "
            f"ELSE {shown} END AS g, n, {', '.join(finals)} FROM ("
            f"SELECT mg, MAX(n) AS n, {', '.join(picks)} FROM ({running}) r "
            f"GROUP BY mg) picked ORDER BY {slot} = {overall}"
        )
