"""The reports' percentile SQL (reports/dialect.py `Dialect.percentiles`) on SQLite and
PostgreSQL against a plain Python computation on random durations: per metric and group,
the overall rows, metrics with no value in a group, a NULL group (the overall row wins its
key, as the reports rely on). The groups are integers, 0 among them: SQLite sorts them packed
with the minute into one integer key (the bucket days and user ids of the reports)."""

from __future__ import annotations

import math
import random

from sqlalchemy import text

from hubdesk.db.uow import Database
from hubdesk.reports.dialect import Dialect


def _cont(values: list[float], p: float) -> float:
    """percentile_cont: linear interpolation between the sorted values around (n - 1) * p."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (pos - lo) * (ordered[hi] - ordered[lo])


C = 123456


def test_percentiles_equal_a_python_computation(db: Database) -> None:
    rng = random.Random(1204)
    rows = []
    for _ in range(700):
        group = rng.choice([0, 7, C, None])
        first = None if rng.random() < 0.2 else rng.randrange(0, 9 * 3600)
        # group C never has a resolution: no resolution row for it
        resolution = None if group == C or rng.random() < 0.3 else rng.randrange(0, 90 * 3600)
        rows.append({"g": group, "fr": first, "rs": resolution})
    with db.transaction() as session:
        dialect = Dialect(session.get_bind().dialect.name)
        session.execute(text("CREATE TEMP TABLE pct_spans (g BIGINT, fr BIGINT, rs BIGINT)"))
        session.execute(text("INSERT INTO pct_spans VALUES (:g, :fr, :rs)"), rows)
        tail = dialect.percentiles("spans", "g", {"first_response": "fr", "resolution": "rs"})
        sql = "WITH spans AS (SELECT g, fr, rs FROM pct_spans)" + tail  # noqa: S608
        found: dict[tuple[str, int | None], tuple[int, float, float]] = {}
        for row in session.execute(text(sql)):
            found[(row.m, row.g)] = (int(row.n), float(row.median), float(row.p90))
        session.execute(text("DROP TABLE pct_spans"))

    def minutes(seconds: int) -> float:
        if dialect.pg:
            return seconds / 60.0  # exact values
        return float(math.floor(seconds / 60.0 + 0.5))  # SQLite: the whole-minute histogram

    expected: dict[tuple[str, int | None], tuple[int, float, float]] = {}
    for metric, column in (("first_response", "fr"), ("resolution", "rs")):
        for group in (0, 7, C, None):
            values = [minutes(r[column]) for r in rows if r["g"] == group and r[column] is not None]
            if values:
                expected[(metric, group)] = (len(values), _cont(values, 0.5), _cont(values, 0.9))
        # the overall row (every group) comes last and takes the key (metric, None)
        values = [minutes(r[column]) for r in rows if r[column] is not None]
        expected[(metric, None)] = (len(values), _cont(values, 0.5), _cont(values, 0.9))
    assert ("resolution", C) not in found
    assert found.keys() == expected.keys()
    for key, (n, median, p90) in expected.items():
        got = found[key]
        assert got[0] == n, key
        assert math.isclose(got[1], median, abs_tol=1e-9), (key, got, median)
        assert math.isclose(got[2], p90, abs_tol=1e-9), (key, got, p90)
