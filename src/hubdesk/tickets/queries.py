"""Listing tickets: filters, the text query, allow-listed sort keys and pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, case, exists, select
from sqlalchemy.orm import Session

from hubdesk.db.paging import Page, paginate
from hubdesk.errors import ValidationFailed
from hubdesk.tickets import search
from hubdesk.tickets.models import Ticket, TicketTag
from hubdesk.tickets.states import PRIORITIES, PRIORITY_RANK, STATUSES
from hubdesk.tickets.visibility import visible_tickets
from hubdesk.users.permissions import Principal

_PRIORITY_ORDER = case(PRIORITY_RANK, value=Ticket.priority, else_=-1)
SORT_KEYS: Final[dict[str, Any]] = {
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "ticket_number": Ticket.ticket_number,
    "subject": Ticket.subject,
    "status": Ticket.status,
    "priority": _PRIORITY_ORDER,
}
SORT_PATTERN: Final = rf"^[-+]?({'|'.join(SORT_KEYS)})$"


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
    sort: str = "-created_at"


def parse_sort(sort: str) -> tuple[Any, bool]:
    descending = sort.startswith("-")
    key = sort.lstrip("-+")
    if key not in SORT_KEYS:
        raise ValidationFailed(
            f"sort key {key!r} is not allowed; use one of {', '.join(sorted(SORT_KEYS))}, "
            "optionally prefixed with '-' for descending"
        )
    return SORT_KEYS[key], descending


def list_tickets(
    session: Session, principal: Principal, flt: TicketFilter, *, limit: int, offset: int
) -> Page[Any]:
    column, descending = parse_sort(flt.sort)
    statement = visible_tickets(principal)
    for condition in _conditions(session, flt):
        statement = statement.where(condition)
    order = column.desc() if descending else column.asc()
    tie = Ticket.id.desc() if descending else Ticket.id.asc()
    return paginate(session, statement.order_by(order, tie), limit=limit, offset=offset)


def _conditions(session: Session, flt: TicketFilter) -> list[ColumnElement[bool]]:
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
        conditions.append(search.matches(session, flt.q))
    if flt.created_from is not None:
        conditions.append(Ticket.created_at >= _as_utc(flt.created_from))
    if flt.created_to is not None:
        conditions.append(Ticket.created_at < _as_utc(flt.created_to))
    if not flt.include_merged:
        conditions.append(Ticket.merged_into_id.is_(None))
    return conditions


def _as_utc(moment: datetime) -> datetime:
    """A bound given without an offset (`?created_from=2025-12-15`) is UTC, like every time
    the API returns; the UTC column refuses naive values, which used to be a 500."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
