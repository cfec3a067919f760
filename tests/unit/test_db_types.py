"""`UTCDateTime` on SQLite writes the text SQLAlchemy's own DATETIME writes (its bind
processor does both steps at once, `hubdesk.db.types`), for any aware datetime: the stored
text is what every comparison and ORDER BY of a time column on SQLite works on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from hubdesk.db.types import UTCDateTime

_SQLITE = sqlite.dialect()
_OURS = UTCDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)
_THEIRS = DateTime(timezone=True).dialect_impl(_SQLITE).bind_processor(_SQLITE)


def _as_sqlalchemy_writes(value: datetime) -> Any:
    assert _THEIRS is not None
    return _THEIRS(value.astimezone(UTC).replace(tzinfo=None))


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=9)), timezone(-timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_sqlite_text_is_sqlalchemys_own(value: datetime) -> None:
    assert _OURS is not None
    assert _OURS(value) == _as_sqlalchemy_writes(value)


def test_whole_seconds_keep_their_six_digits_and_none_stays_none() -> None:
    assert _OURS is not None
    assert _OURS(datetime(2026, 12, 5, 21, 0, tzinfo=UTC)) == "2026-12-05 21:00:00.000000"
    assert _OURS(None) is None


def test_a_naive_datetime_is_refused_on_both_databases() -> None:
    assert _OURS is not None
    with pytest.raises(ValueError, match="naive datetime"):
        _OURS(datetime(2026, 12, 5))
    pg = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    theirs = UTCDateTime().dialect_impl(pg).bind_processor(pg)
    assert theirs is not None
    with pytest.raises(ValueError, match="naive datetime"):
        theirs(datetime(2026, 12, 5))
