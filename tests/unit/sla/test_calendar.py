"""Business-hours arithmetic in Europe/Copenhagen: weekends, holidays, DST both ways, pauses,
targets spanning several days, and the validation of a calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hubdesk.errors import ValidationFailed
from hubdesk.sla.calendar import DAYS, BusinessCalendar, build_calendar

CPH = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = {day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
OFFICE = build_calendar(
    "Europe/Copenhagen", {**WEEKDAYS, "sat": [], "sun": []}, [], country_holidays="DK"
)
ALWAYS = build_calendar(
    "Europe/Copenhagen",
    {d: [["00:00", "24:00"]] for d in DAYS},
)


def cph(*args: int) -> datetime:
    return datetime(*args, tzinfo=CPH)  # type: ignore[misc]


def test_minutes_inside_one_window_are_wall_clock_minutes() -> None:
    assert OFFICE.add_minutes(cph(2025, 12, 15, 9, 0), 60) == cph(2025, 12, 15, 10, 0)


def test_a_target_running_past_closing_continues_next_morning() -> None:
    # Monday 15:30 + 60 business minutes: 30 today, 30 on Tuesday from 08:00.
    assert OFFICE.add_minutes(cph(2025, 12, 15, 15, 30), 60) == cph(2025, 12, 16, 8, 30)


def test_mail_received_at_night_starts_counting_at_opening() -> None:
    assert OFFICE.add_minutes(cph(2025, 12, 15, 22, 17), 30) == cph(2025, 12, 16, 8, 30)


def test_weekend_is_skipped() -> None:
    # Friday 2025-12-12 15:00 + 120: 60 on Friday, then Monday 08:00 + 60.
    assert OFFICE.add_minutes(cph(2025, 12, 12, 15, 0), 120) == cph(2025, 12, 15, 9, 0)
    assert OFFICE.add_minutes(cph(2025, 12, 13, 11, 0), 1) == cph(2025, 12, 15, 8, 1)


def test_danish_public_holidays_are_closed() -> None:
    # Maundy Thursday 2026-04-02 to Easter Monday 2026-04-06 are all closed in Denmark.
    due = OFFICE.add_minutes(cph(2026, 4, 1, 15, 0), 120)
    assert due == cph(2026, 4, 7, 9, 0)
    assert OFFICE.is_closed(cph(2026, 12, 25, 0, 0).date())
    assert not OFFICE.is_closed(cph(2026, 12, 28, 0, 0).date())


def test_custom_closed_days_are_closed() -> None:
    calendar = build_calendar("Europe/Copenhagen", WEEKDAYS, ["2025-12-16"])
    assert calendar.add_minutes(cph(2025, 12, 15, 15, 0), 120) == cph(2025, 12, 17, 9, 0)


def test_a_target_spanning_several_days() -> None:
    # 3 business days of 8 hours from Wednesday 10:00 (with a weekend in between).
    assert OFFICE.add_minutes(cph(2025, 12, 10, 10, 0), 3 * 8 * 60) == cph(2025, 12, 15, 10, 0)
    assert OFFICE.minutes_between(cph(2025, 12, 10, 10, 0), cph(2025, 12, 15, 10, 0)) == 1440


def test_dst_spring_forward_night_has_23_hours() -> None:
    # 2026-03-29 02:00 CET -> 03:00 CEST. 24 hours of a 24x7 calendar from Saturday noon end
    # at Sunday 13:00 local time (one wall-clock hour "later"), 24 real hours after.
    start = cph(2026, 3, 28, 12, 0)
    due = ALWAYS.add_minutes(start, 24 * 60)
    assert due == cph(2026, 3, 29, 13, 0)
    assert due is not None
    assert due - start == timedelta(hours=24)
    assert due.astimezone(UTC) == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)


def test_dst_fall_back_night_has_25_hours() -> None:
    start = cph(2026, 10, 24, 12, 0)
    due = ALWAYS.add_minutes(start, 24 * 60)
    assert due == cph(2026, 10, 25, 11, 0)
    assert due is not None
    assert due.astimezone(UTC) == datetime(2026, 10, 25, 10, 0, tzinfo=UTC)


def test_business_hours_keep_local_time_across_dst() -> None:
    # Friday 2026-03-27 15:00 CET + 120: Monday 2026-03-30 09:00 CEST = 07:00 UTC (not 08:00).
    due = OFFICE.add_minutes(cph(2026, 3, 27, 15, 0), 120)
    assert due is not None
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # Friday 2026-10-23 15:00 CEST + 120: Monday 09:00 CET = 08:00 UTC.
    due = OFFICE.add_minutes(cph(2026, 10, 23, 15, 0), 120)
    assert due is not None
    assert due.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_pauses_do_not_count() -> None:
    start = cph(2025, 12, 15, 9, 0)
    pause = (cph(2025, 12, 15, 10, 0).astimezone(UTC), cph(2025, 12, 15, 11, 30).astimezone(UTC))
    assert OFFICE.add_minutes(start, 120, [pause]) == cph(2025, 12, 15, 12, 30)
    assert OFFICE.minutes_between(start, cph(2025, 12, 15, 12, 30), [pause]) == 120


def test_a_pause_over_the_night_only_removes_business_time() -> None:
    start = cph(2025, 12, 15, 15, 0)
    pause = (cph(2025, 12, 15, 15, 30).astimezone(UTC), cph(2025, 12, 16, 9, 0).astimezone(UTC))
    # 30 minutes on Monday, the pause eats Tuesday 08:00-09:00, 30 more from 09:00.
    assert OFFICE.add_minutes(start, 60, [pause]) == cph(2025, 12, 16, 9, 30)


def test_an_open_pause_leaves_the_due_time_unknown() -> None:
    start = cph(2025, 12, 15, 9, 0)
    pause = (cph(2025, 12, 15, 9, 30).astimezone(UTC), None)
    assert OFFICE.add_minutes(start, 60, [pause]) is None
    # Minutes that run out before the pause began are known.
    assert OFFICE.add_minutes(start, 20, [pause]) == cph(2025, 12, 15, 9, 20)


@pytest.mark.parametrize(
    ("timezone", "hours", "holidays", "country", "message"),
    [
        ("Mars/Olympus", WEEKDAYS, [], None, "not a known IANA time zone"),
        ("Europe/Copenhagen", {"mon": [["16:00", "08:00"]]}, [], None, "ends before it starts"),
        (
            "Europe/Copenhagen",
            {"mon": [["12:00", "16:00"], ["08:00", "13:00"]]},
            [],
            None,
            "sorted and must not overlap",
        ),
        (
            "Europe/Copenhagen",
            {"mon": [["08:00", "12:00"], ["11:00", "16:00"]]},
            [],
            None,
            "sorted and must not overlap",
        ),
        ("Europe/Copenhagen", {"monday": [["08:00", "16:00"]]}, [], None, "unknown day"),
        ("Europe/Copenhagen", {"mon": [["8", "16:00"]]}, [], None, "HH:MM"),
        ("Europe/Copenhagen", {"mon": []}, [], None, "no opening hours"),
        ("Europe/Copenhagen", WEEKDAYS, ["24-12-2025"], None, "YYYY-MM-DD"),
        ("Europe/Copenhagen", WEEKDAYS, [], "XX", "not a supported country"),
    ],
)
def test_bad_calendars_say_what_to_fix(
    timezone: str,
    hours: dict[str, list[list[str]]],
    holidays: list[str],
    country: str | None,
    message: str,
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        build_calendar(timezone, hours, holidays, country)


def test_a_calendar_is_a_value() -> None:
    assert isinstance(OFFICE, BusinessCalendar)
    assert (
        build_calendar(
            "Europe/Copenhagen", {**WEEKDAYS, "sat": [], "sun": []}, [], country_holidays="DK"
        )
        == OFFICE
    )
