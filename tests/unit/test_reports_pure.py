"""The pure parts of the reports: CSV neutralising, parameter checks, chart geometry and the
business-time table."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hubdesk.errors import ValidationFailed
from hubdesk.reports import business_time, params
from hubdesk.reports.csv_export import neutralise
from hubdesk.sla.calendar import build_calendar
from hubdesk.web.ui.svg_charts import Series, bar_chart, nice_max

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Acme", "Acme"),
        ("a=b", "a=b"),
        (-2, "-2"),
        (1.5, "1.5"),
        (None, ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(
    value: object, written: str
) -> None:
    assert neutralise(value) == written  # type: ignore[arg-type]


def test_period_defaults_and_limits() -> None:
    checked = params.check(from_=None, to=None, today=TODAY)
    assert (checked.start_date, checked.end_date, checked.interval) == (
        date(2026, 2, 9),
        TODAY,
        "day",
    )
    year = params.check(from_="2025-03-11", to="2026-03-10", today=TODAY)
    assert (year.days, year.interval) == (365, "week")
    assert year.buckets()[0] == date(2025, 3, 10)  # the Monday of the first week
    with pytest.raises(ValidationFailed, match="at most 366 days"):
        params.check(from_="2025-03-09", to="2026-03-10", today=TODAY)
    with pytest.raises(ValidationFailed, match="YYYY-MM-DD"):
        params.check(from_="2026-3-1", to=None, today=TODAY)


def test_business_time_table_counts_opening_hours_across_dst() -> None:
    """Office hours 08-16 Copenhagen: 8 business hours a weekday before and after the switch
    to summer time (29 March 2026), the UTC pieces moving an hour earlier."""
    office = {d: [["08:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    calendar = build_calendar("Europe/Copenhagen", office)
    table = business_time.build(
        [(7, calendar)], datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    )
    rows = {row[2]: row for row in table.rows}
    friday, monday = 20539, 20542
    assert rows[friday][3:6] == (0, int(datetime(2026, 3, 27, 7, tzinfo=UTC).timestamp()), 28800)
    assert rows[monday][3:6] == (
        28800,
        int(datetime(2026, 3, 30, 6, tzinfo=UTC).timestamp()),
        28800,
    )


def test_chart_geometry() -> None:
    assert [nice_max(v) for v in (0, 0.3, 7, 10, 11, 240)] == [1, 0.5, 10, 10, 20, 250]
    chart = bar_chart("T <b>", "D", ["a", "b"], [Series("x", [5, None]), Series("y", [10, 0])])
    assert [b.series for b in chart.bars] == [0, 1]  # nothing drawn for None and 0
    assert chart.bars[1].height == 2 * chart.bars[0].height
    assert [t.text for t in chart.grid] == ["0", "2.5", "5", "7.5", "10"]
    assert chart.title == "T <b>"  # escaped by the template, not here
