"""Due times from a clock's facts (pure): which targets apply, pauses, met targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubdesk.sla.calendar import DAYS, build_calendar
from hubdesk.sla.timers import Facts, Targets, decode_pauses, due_times, encode_pauses

ALWAYS = build_calendar("Europe/Copenhagen", {d: [["00:00", "24:00"]] for d in DAYS})
T0 = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)
TARGETS = Targets(60, 120, 480)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_new_clock_owes_first_response_and_resolution() -> None:
    dues = due_times(ALWAYS, TARGETS, Facts(T0, T0), 80)
    assert sorted(dues) == ["first_response", "resolution"]
    assert dues["first_response"].due_at == at(60)
    assert dues["first_response"].warning_at == at(48)
    assert dues["resolution"].due_at == at(480)


def test_a_met_target_keeps_its_due_time_through_a_later_pause() -> None:
    facts = Facts(T0, T0, pauses=((at(30), None),), first_response_met_at=at(20))
    dues = due_times(ALWAYS, TARGETS, facts, 80)
    assert dues["first_response"].due_at == at(60)
    assert not dues["first_response"].pending
    assert dues["resolution"].due_at is None  # pending while paused: not known yet


def test_a_met_target_after_its_due_time_is_missed() -> None:
    facts = Facts(T0, T0, first_response_met_at=at(61))
    assert due_times(ALWAYS, TARGETS, facts, 80)["first_response"].missed


def test_a_customer_reply_owes_a_next_response_and_a_stopped_clock_owes_nothing() -> None:
    facts = Facts(T0, T0, first_response_met_at=at(5), awaiting_since=at(100))
    assert due_times(ALWAYS, TARGETS, facts, 80)["next_response"].due_at == at(220)
    stopped = Facts(T0, T0, awaiting_since=at(100), stopped_at=at(150))
    assert sorted(due_times(ALWAYS, TARGETS, stopped, 80)) == ["resolution"]


def test_pauses_round_trip_through_json() -> None:
    pauses = ((at(1), at(2)), (at(3), None))
    assert decode_pauses(encode_pauses(pauses)) == pauses
