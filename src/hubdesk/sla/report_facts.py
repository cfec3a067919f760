"""Per-ticket reporting facts kept on the ticket row, so that the response-times and agents
reports aggregate stored numbers from the period's covering index instead of computing
business time for every ticket of a year on each request (docs/reports.md, "Speed").

A ticket row carries the business seconds from its creation to the first response
(`report_first_s`) and to the resolution (`report_resolution_s`), in the calendar of its SLA
clock's policy (wall-clock seconds without one), together with the inputs they were
computed from: the ticket's `created_at`, `first_response_at`, `resolved_at` and the
policy's calendar stamp (`report_stamp`: the policy id and a hash of its calendar, "wall"
without a policy). The reports use a fact only while those inputs still equal the ticket's
and a current policy's; any other ticket (a writer that did not refresh it, a calendar
edited since, a deleted policy) is computed at request time exactly as before, so a stale
fact costs speed, never a wrong number. A ticket with neither a first response nor a
resolution has nothing to measure and needs no facts.

The SLA hooks write them (sla.service.refresh_report_facts) with a plain UPDATE of these
columns, which does not bump the ticket's `version` (they are derived data, not an edit).
Until migration 0016_report_rollups they lived on the SLA clock; on the ticket row they sit
inside the reports' covering period index, so a report reads one index without a join.

The arithmetic is the reports' own (sla.calendar.business_seconds over the same UTC-day
pieces as the SQL table of reports/business_time.py, whole epoch seconds, floor), and
tests/integration/test_report_facts.py compares both on random tickets.
"""

from __future__ import annotations

import calendar as _timegm
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hubdesk.db.types import JSONValue, UTCDateTime
from hubdesk.sla.calendar import DAYS, UTC_DAY, BusinessCalendar, build_calendar, day_pieces

WALL: Final = "wall"
"""The stamp of a fact computed without a policy (wall-clock seconds)."""


def epoch(moment: datetime) -> int:
    """Whole epoch seconds (floor), as the reports' SQL takes them."""
    return _timegm.timegm(moment.utctimetuple())


def stamp(
    policy_id: int,
    timezone: str,
    hours: Mapping[str, Any],
    holidays: Sequence[str],
    country_holidays: str | None,
) -> str:
    """The policy id and a hash of its calendar: a fact made with another calendar is stale."""
    shape = {
        "timezone": timezone,
        "hours": {day: hours.get(day, []) for day in DAYS},
        "holidays": sorted(holidays),
        "country_holidays": country_holidays,
    }
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]
    return f"{policy_id}:{digest}"


class Pieces:
    """One calendar's opening pieces by UTC day, loaded as far as asked and kept (the
    backfill sums many tickets over the same days)."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.days: dict[int, list[tuple[int, int]]] = {}
        self.lo = self.hi = 0

    def _cover(self, first: int, last: int) -> None:
        if self.lo < self.hi and first >= self.lo and last <= self.hi:
            return
        if self.lo == self.hi:
            self.days = day_pieces(self.calendar, first, last)
            self.lo, self.hi = first, last
            return
        if first < self.lo:
            self.days.update(day_pieces(self.calendar, first, self.lo))
            self.lo = first
        if last > self.hi:
            self.days.update(day_pieces(self.calendar, self.hi, last))
            self.hi = last

    def between(self, a: int, b: int) -> int:
        """Business seconds from epoch second a to b (0 when b <= a)."""
        if b <= a:
            return 0
        first, last = a // UTC_DAY, b // UTC_DAY + 1
        self._cover(first, last)
        total = 0
        for day in range(first, last):
            for start, length in self.days.get(day, ()):
                total += max(0, min(b, start + length) - max(a, start))
        return total


def durations(
    created: datetime, first: datetime | None, resolved: datetime | None, pieces: Pieces | None
) -> tuple[int | None, int | None]:
    """(business seconds to the first response, to the resolution); None where the moment is
    not there. Without `pieces` (no policy) wall-clock seconds, never negative."""
    a = epoch(created)

    def span(moment: datetime | None) -> int | None:
        if moment is None:
            return None
        b = epoch(moment)
        return max(b - a, 0) if pieces is None else pieces.between(a, b)

    return span(first), span(resolved)


# --- the backfill (migration 0016_report_rollups, bench/reports.py) -------------------------

_clocks = sa.table(
    "sla_ticket_clocks",
    sa.column("ticket_id", sa.Integer()),
    sa.column("policy_id", sa.Integer()),
)
_tickets = sa.table(
    "tticket_tickets",
    sa.column("id", sa.Integer()),
    sa.column("created_at", UTCDateTime()),
    sa.column("first_response_at", UTCDateTime()),
    sa.column("resolved_at", UTCDateTime()),
    sa.column("report_created_at", UTCDateTime()),
    sa.column("report_first_at", UTCDateTime()),
    sa.column("report_resolved_at", UTCDateTime()),
    sa.column("report_stamp", sa.String()),
    sa.column("report_first_s", sa.BigInteger()),
    sa.column("report_resolution_s", sa.BigInteger()),
)
_policies = sa.table(
    "sla_policies",
    sa.column("id", sa.Integer()),
    sa.column("timezone", sa.String()),
    sa.column("hours", JSONValue()),
    sa.column("holidays", JSONValue()),
    sa.column("country_holidays", sa.String()),
)

FACTS_UPDATE: Final = (
    _tickets.update()
    .where(_tickets.c.id == sa.bindparam("tid"))
    .values(
        report_created_at=sa.bindparam("c", type_=UTCDateTime()),
        report_first_at=sa.bindparam("f", type_=UTCDateTime()),
        report_resolved_at=sa.bindparam("r", type_=UTCDateTime()),
        report_stamp=sa.bindparam("s"),
        report_first_s=sa.bindparam("fs"),
        report_resolution_s=sa.bindparam("rs"),
    )
)
"""One ticket's facts (a Core UPDATE: the ticket's `version` is not bumped)."""


def forget(ticket_ids: sa.Select[Any]) -> sa.Update:
    """Mark these tickets' facts stale (their stamp cleared; version not bumped): the
    reports compute them at request time until a hook refreshes them."""
    return _tickets.update().where(_tickets.c.id.in_(ticket_ids)).values(report_stamp=None)


def backfill(connection: Connection, batch: int = 5000) -> int:
    """Compute the facts of every ticket that has something to measure (a first response or
    a resolution), set-based reads and writes batch by batch in the caller's transaction;
    returns how many tickets were written."""
    policies: dict[int, tuple[str, Pieces]] = {}
    for p in connection.execute(sa.select(_policies)).all():
        hours, days_off = p.hours or {}, p.holidays or []
        calendar = build_calendar(p.timezone, hours, days_off, p.country_holidays)
        policies[p.id] = (
            stamp(p.id, p.timezone, hours, days_off, p.country_holidays),
            Pieces(calendar),
        )
    written = 0
    after = -1
    while True:
        rows = connection.execute(
            sa.select(
                _tickets.c.id,
                _clocks.c.policy_id,
                _tickets.c.created_at,
                _tickets.c.first_response_at,
                _tickets.c.resolved_at,
            )
            .select_from(_tickets.outerjoin(_clocks, _clocks.c.ticket_id == _tickets.c.id))
            .where(
                _tickets.c.id > after,
                sa.or_(
                    _tickets.c.first_response_at.is_not(None), _tickets.c.resolved_at.is_not(None)
                ),
            )
            .order_by(_tickets.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return written
        values = []
        for row in rows:
            known = policies.get(row.policy_id) if row.policy_id is not None else None
            first_s, resolution_s = durations(
                row.created_at, row.first_response_at, row.resolved_at, known and known[1]
            )
            values.append(
                {
                    "tid": row.id,
                    "c": row.created_at,
                    "f": row.first_response_at,
                    "r": row.resolved_at,
                    "s": known[0] if known else WALL,
                    "fs": first_s,
                    "rs": resolution_s,
                }
            )
        connection.execute(FACTS_UPDATE, values)
        written += len(values)
        after = rows[-1].id
