"""A ticket's SLA due times and state from its clock's facts (pure).

Targets (business minutes): the first response counts from the clock's start; a next
response from the customer reply awaiting an answer; the resolution from the resolution
clock's start (the start, or the last reopening). Pauses never count. A met target keeps its
due time, computed with the pauses before it was met; a pending target has no due time while
the ticket is paused (it is not known until the customer answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from hubdesk.sla.calendar import BusinessCalendar, Interval, warning_minutes

TARGETS: Final = ("first_response", "next_response", "resolution")


@dataclass(frozen=True)
class Targets:
    first_response_minutes: int
    next_response_minutes: int
    resolution_minutes: int

    def minutes(self, target: str) -> int:
        value: int = getattr(self, f"{target}_minutes")
        return value


@dataclass(frozen=True)
class Facts:
    started_at: datetime
    resolution_started_at: datetime
    pauses: tuple[Interval, ...] = ()
    awaiting_since: datetime | None = None
    first_response_met_at: datetime | None = None
    next_response_met_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def paused(self) -> bool:
        return any(end is None for _start, end in self.pauses)

    def start_of(self, target: str) -> datetime | None:
        if target == "first_response":
            return self.started_at
        if target == "next_response":
            return self.awaiting_since
        return self.resolution_started_at

    def met_at(self, target: str) -> datetime | None:
        if target == "first_response":
            return self.first_response_met_at
        if target == "next_response":
            return self.next_response_met_at if self.awaiting_since is None else None
        return self.stopped_at


@dataclass(frozen=True)
class Due:
    target: str
    start: datetime
    due_at: datetime | None
    warning_at: datetime | None
    met_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.met_at is None

    @property
    def missed(self) -> bool:
        return self.met_at is not None and self.due_at is not None and self.met_at > self.due_at


def due_times(
    calendar: BusinessCalendar, targets: Targets, facts: Facts, warning_percent: int
) -> dict[str, Due]:
    """Each target that applies: its start, due time, warning moment and when it was met."""
    out: dict[str, Due] = {}
    for target in TARGETS:
        start = facts.start_of(target)
        if start is None:
            continue
        met = facts.met_at(target)
        if met is None and facts.stopped_at is not None:
            continue  # a resolved ticket owes no more responses
        pauses = facts.pauses if met is None else _pauses_until(facts.pauses, met)
        minutes = targets.minutes(target)
        due = calendar.add_minutes(start, minutes, pauses)
        warn = calendar.add_minutes(start, warning_minutes(minutes, warning_percent), pauses)
        out[target] = Due(target, start, due, warn, met)
    return out


def _pauses_until(pauses: Sequence[Interval], moment: datetime) -> tuple[Interval, ...]:
    """The pauses that began before `moment`, an open one closed there."""
    return tuple(
        (start, end if end is not None and end <= moment else moment)
        for start, end in pauses
        if start < moment
    )


def encode_pauses(pauses: Sequence[Interval]) -> list[list[str | None]]:
    return [
        [s.astimezone(UTC).isoformat(), e.astimezone(UTC).isoformat() if e else None]
        for s, e in pauses
    ]


def decode_pauses(raw: Sequence[Sequence[str | None]]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    for start, end in raw:
        assert start is not None
        out.append((datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None))
    return tuple(out)
