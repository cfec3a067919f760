"""Listing tickets: filters, the text query, allow-listed sort keys and pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from hubdesk.automation.models import TicketSnooze
from hubdesk.db.paging import Page, paginate
from hubdesk.db.types import utcnow
from hubdesk.errors import ValidationFailed
from hubdesk.sla.models import SlaClock
from hubdesk.tickets import search
from hubdesk.tickets.models import Ticket, TicketTag
from hubdesk.tickets.states import PRIORITIES, STATUSES
from hubdesk.tickets.visibility import visible_tickets
from hubdesk.users import teams
from hubdesk.users.permissions import Principal

# SLA: the earliest pending due time of the ticket's clock (none: sorted last).
_SLA_DUE = select(SlaClock.next_due_at).where(SlaClock.ticket_id == Ticket.id).scalar_subquery()
SlaFilter = Literal["breached", "warning", "paused"]
SLA_STATES: Final = get_args(SlaFilter)
SORT_KEYS: Final[dict[str, Any]] = {
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "ticket_number": Ticket.ticket_number,
    "subject": Ticket.subject,
    "status": Ticket.status,
    "priority": Ticket.priority_rank,
    "sla_due": _SLA_DUE,
}
_ONE_SORT: Final = rf"[-+]?({'|'.join(SORT_KEYS)})"
SORT_PATTERN: Final = rf"^{_ONE_SORT}(,{_ONE_SORT}){{0,2}}$"
"""One sort key, or up to three separated by commas (`-priority,created_at`: the highest
priority first, the oldest first within a priority)."""


@dataclass(frozen=True)
class TicketFilter:
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    customer_id: int | None = None
    assigned_to_user_id: int | None = None
    unassigned: bool = False
    tag: str | None = None
    q: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    include_merged: bool = True
    sla_state: str | None = None
    sla_due_before: datetime | None = None
    snoozed: bool | None = None
    """False: hide tickets snoozed now (the default open list); True: only those."""
    team_id: int | None = None
    no_team: bool = False
    """Only tickets of no team (`team_id` is then ignored)."""
    sort: str = "-created_at"


SEARCH_COUNT_LIMIT: Final = 1_000
"""A text search counts its matches up to this many (or the list's count limit, if lower):
checking a common word against every ticket it matches is the slow part of a search
(bench/README.md, "At scale"); "More than 1000 tickets" is as useful as the number."""


def parse_sort(sort: str) -> tuple[Any, bool]:
    descending = sort.startswith("-")
    key = sort.lstrip("-+")
    if key not in SORT_KEYS:
        raise ValidationFailed(
            f"sort key {key!r} is not allowed; use one of {', '.join(sorted(SORT_KEYS))}, "
            "optionally prefixed with '-' for descending"
        )
    return SORT_KEYS[key], descending


def parse_sorts(sort: str) -> list[tuple[Any, bool]]:
    """`-priority,created_at` -> each key's column and direction (at most three keys)."""
    parts = sort.split(",")
    if len(parts) > 3:
        raise ValidationFailed("sort takes at most three keys, separated by commas")
    return [parse_sort(part.strip()) for part in parts]


def list_tickets(
    session: Session,
    principal: Principal,
    flt: TicketFilter,
    *,
    limit: int,
    offset: int,
    count_limit: int | None = None,
) -> Page[Any]:
    """One page of the tickets `flt` selects in the principal's queues, with their total:
    exact, or with `count_limit` at most `offset + count_limit` and then marked a lower
    bound (`hubdesk.db.paging`; the setting HUBDESK_LIST_COUNT_LIMIT, 0 for exact)."""
    sorts = parse_sorts(flt.sort)
    if count_limit and flt.q and flt.q.strip():
        count_limit = min(count_limit, SEARCH_COUNT_LIMIT)
    statement = visible_tickets(principal)
    queue = teams.queue_condition(principal, Ticket.team_id, Ticket.assigned_to_user_id)
    if queue is not None:  # the principal's teams' queues (docs/teams.md)
        statement = statement.where(queue)
    counted = at_least = statement
    for condition in _conditions(session, flt):
        statement = statement.where(condition)
    # The count needs no order: its search condition may take the other plan (search.py).
    for condition in _conditions(session, flt, ordered=False):
        counted = counted.where(condition)
    # A bounded count of a common query first counts the whole-word matches (a subset):
    # past the bound, that is the answer (search.common_whole_words).
    quick = bool(count_limit and flt.q and search.common_whole_words(session, flt.q))
    for condition in _conditions(session, flt, ordered=False, whole=True) if quick else []:
        at_least = at_least.where(condition)
    # NULLS LAST only where a key can be NULL (the SLA due time): on the NOT NULL columns
    # it changes nothing but keeps PostgreSQL from reading their indexes in order.
    order = [_nulls_last(c.desc() if d else c.asc(), c) for c, d in sorts]
    tie = Ticket.id.desc() if sorts[-1][1] else Ticket.id.asc()
    return paginate(
        session,
        statement.order_by(*order, tie),
        limit=limit,
        offset=offset,
        count_limit=count_limit or None,
        counted=counted,
        at_least=at_least if quick else None,
    )


def _nulls_last(ordered: Any, column: Any) -> Any:
    return ordered.nulls_last() if column is _SLA_DUE else ordered


def _conditions(
    session: Session, flt: TicketFilter, *, ordered: bool = True, whole: bool = False
) -> list[ColumnElement[bool]]:
    for value in flt.status:
        if value not in STATUSES:
            raise ValidationFailed(f"status {value!r} is not valid; use one of {STATUSES}")
    for value in flt.priority:
        if value not in PRIORITIES:
            raise ValidationFailed(f"priority {value!r} is not valid; use one of {PRIORITIES}")
    conditions: list[ColumnElement[bool]] = []
    if flt.status:
        conditions.append(Ticket.status.in_(flt.status))
    if flt.priority:
        conditions.append(Ticket.priority.in_(flt.priority))
    if flt.customer_id is not None:
        conditions.append(Ticket.customer_id == flt.customer_id)
    if flt.no_team:
        conditions.append(Ticket.team_id.is_(None))
    elif flt.team_id is not None:
        conditions.append(Ticket.team_id == flt.team_id)
    if flt.unassigned:
        conditions.append(Ticket.assigned_to_user_id.is_(None))
    elif flt.assigned_to_user_id is not None:
        conditions.append(Ticket.assigned_to_user_id == flt.assigned_to_user_id)
    if flt.tag:
        conditions.append(
            exists(
                select(TicketTag.ticket_id).where(
                    TicketTag.ticket_id == Ticket.id, TicketTag.tag == flt.tag.lower().lstrip("#")
                )
            )
        )
    if flt.q and flt.q.strip():
        conditions.append(search.matches(session, flt.q, ordered=ordered, whole=whole))
    if flt.created_from is not None:
        conditions.append(Ticket.created_at >= _as_utc(flt.created_from))
    if flt.created_to is not None:
        conditions.append(Ticket.created_at < _as_utc(flt.created_to))
    if not flt.include_merged:
        conditions.append(Ticket.merged_into_id.is_(None))
    conditions.extend(_sla_conditions(flt))
    if flt.snoozed is not None:
        snoozed = exists(
            select(TicketSnooze.ticket_id).where(
                TicketSnooze.ticket_id == Ticket.id, TicketSnooze.until > utcnow()
            )
        )
        conditions.append(snoozed if flt.snoozed else ~snoozed)
    return conditions


def _sla_conditions(flt: TicketFilter) -> list[ColumnElement[bool]]:
    """SLA filters: a pending due time before a moment, or a state now (breached: a pending
    target is overdue; warning: past its warning moment, not yet due; paused)."""
    if flt.sla_state is not None and flt.sla_state not in SLA_STATES:
        raise ValidationFailed(
            f"sla_state {flt.sla_state!r} is not valid; use one of {', '.join(SLA_STATES)}"
        )
    now = utcnow()
    clock: list[ColumnElement[bool]] = []
    if flt.sla_due_before is not None:
        clock.append(SlaClock.next_due_at < _as_utc(flt.sla_due_before))
    if flt.sla_state == "breached":
        clock.append(SlaClock.next_due_at <= now)
    elif flt.sla_state == "warning":
        clock += [SlaClock.warning_at <= now, SlaClock.next_due_at > now]
    elif flt.sla_state == "paused":
        clock.append(SlaClock.paused.is_(True))
    if not clock:
        return []
    # The clocks that match, found through their due-time indexes, not one lookup per
    # ticket (the same tickets as an EXISTS per ticket).
    return [Ticket.id.in_(select(SlaClock.ticket_id).where(*clock))]


def _as_utc(moment: datetime) -> datetime:
    """A bound given without an offset (`?created_from=2025-12-15`) is UTC, like every time
    the API returns; the UTC column refuses naive values, which used to be a 500."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
