"""The pure parts of ticket numbers: format, creation day in a zone, recognising numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hubdesk.tickets.numbers import PATTERN, creation_day, format_number, is_ticket_number


@pytest.mark.parametrize(
    ("sequence", "number"),
    [
        (1, "TKT-20251215-001"),
        (42, "TKT-20251215-042"),
        (999, "TKT-20251215-999"),
        (1000, "TKT-20251215-1000"),
        (12345, "TKT-20251215-12345"),
    ],
)
def test_sequence_is_zero_padded_to_three_digits_and_grows(sequence: int, number: str) -> None:
    """Three digits with leading zeros, and as many as needed past 999."""
    assert format_number("20251215", sequence) == number
    assert is_ticket_number(number)
    match = PATTERN.search(f"Re: [{number}] printer")
    assert match is not None
    assert match.group(0) == number


def test_creation_day_is_local_to_the_zone() -> None:
    """The day is the calendar date in the given zone, not in UTC, across DST changes too."""
    late = datetime(2025, 12, 15, 23, 30, tzinfo=UTC)
    assert creation_day(late, ZoneInfo("Europe/Copenhagen")) == "20251216"
    assert creation_day(late, ZoneInfo("UTC")) == "20251215"
    assert (
        creation_day(datetime(2025, 12, 16, 3, tzinfo=UTC), ZoneInfo("America/New_York"))
        == "20251215"
    )
    summer = datetime(2025, 6, 30, 22, 30, tzinfo=UTC)
    assert creation_day(summer, ZoneInfo("Europe/Copenhagen")) == "20250701"


@pytest.mark.parametrize(
    "value",
    [
        "TKT-2025121-001",
        "TKT-20251215-01",
        "tkt-20251215-001",
        "TKT-20251215-001x",
        " TKT-20251215-001",
        "TKT-20251215-001\n",
        "TKT-20251215-",
    ],
)
def test_near_misses_are_not_ticket_numbers(value: str) -> None:
    """Only the exact shape counts as a ticket number."""
    assert not is_ticket_number(value)
