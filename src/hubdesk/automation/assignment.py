"""Automatic assignment: pick an agent of a group for a ticket, round robin or least open.

Only active users marked available (`users.available`) are candidates. The group's cursor
row (`assignment_cursors`) is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite writers
are serialised by BEGIN IMMEDIATE) before the candidates and their open tickets are read,
so two tickets assigned at once never pick by stale state: the second waits for the first
to commit and sees its choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.automation.keys import insert_once
from hubdesk.automation.models import AssignmentCursor
from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import OPEN_STATES
from hubdesk.users.models import Group, User, UserGroup
from hubdesk.users.permissions import SYSTEM

STRATEGIES = ("round_robin", "least_open")
OFF = "automatic assignment is off"


@dataclass(frozen=True)
class Choice:
    user_id: int | None
    reason: str
    """Why this agent (or nobody): shown on the ticket's timeline."""


def pick(
    session: Session, group_name: str, strategy: str, *, now: datetime | None = None
) -> Choice:
    """The next agent of `group_name` by `strategy`; `user_id` None when nobody is available."""
    group = session.scalars(select(Group).where(Group.name == group_name)).first()
    if group is None:
        return Choice(None, f"group {group_name!r} does not exist")
    cursor = _locked_cursor(session, group.id)
    candidates = available_members(session, group.id)
    if not candidates:
        return Choice(None, f"no available agent in group {group.name}")
    in_turn = _after(candidates, cursor.last_user_id)
    if strategy == "least_open":
        counts = open_counts(session, [u.id for u in candidates])
        chosen = min(in_turn, key=lambda user: counts.get(user.id, 0))  # ties: in turn
        reason = (
            f"least open tickets ({counts.get(chosen.id, 0)}) among the available agents "
            f"of {group.name}"
        )
    else:
        chosen = in_turn[0]
        reason = f"round robin among the available agents of {group.name}"
    cursor.last_user_id = chosen.id
    cursor.assigned_count += 1
    cursor.updated_at = now or utcnow()
    session.flush()
    return Choice(chosen.id, reason)


def for_new_ticket(session: Session, settings: Settings) -> Choice:
    """The assignee of a new ticket from mail under TICKET_AUTO_ASSIGN (docs/automation.md):
    the group's next available agent, else TICKET_DEFAULT_ASSIGNEE_ID when that user is
    active and available, else nobody."""
    if not settings.ticket_auto_assign:
        return Choice(None, OFF)
    reasons = []
    if settings.ticket_auto_assign_group:
        choice = pick(
            session, settings.ticket_auto_assign_group, settings.ticket_auto_assign_strategy
        )
        if choice.user_id is not None:
            return choice
        reasons.append(choice.reason)
    default = settings.ticket_default_assignee_id
    if default is not None:
        user = session.get(User, default)
        if user is not None and user.active and user.available:
            return Choice(user.id, "; ".join([*reasons, "the default assignee"]))
        reasons.append(f"the default assignee (user {default}) is inactive or unavailable")
    return Choice(None, "; ".join(reasons) or "no assignee configured")


def record(session: Session, ticket: Ticket, choice: Choice) -> None:
    """The audit row of an automatic assignment (or why there was none) on the timeline."""
    if choice.reason == OFF:
        return
    tickets.record_event(
        session,
        SYSTEM,
        ticket,
        "auto_assigned",
        {"assigned_to_user_id": [None, choice.user_id], "reason": [None, choice.reason]},
    )


def available_members(session: Session, group_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(UserGroup, UserGroup.user_id == User.id)
            .where(
                UserGroup.group_id == group_id,
                User.active.is_(True),
                User.available.is_(True),
            )
            .order_by(User.id)
        )
    )


def open_counts(session: Session, user_ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.assigned_to_user_id, func.count())
        .where(
            Ticket.assigned_to_user_id.in_(user_ids),
            Ticket.status.in_(OPEN_STATES),
            Ticket.deleted_at.is_(None),
            Ticket.merged_into_id.is_(None),
        )
        .group_by(Ticket.assigned_to_user_id)
    )
    return {int(user_id): int(count) for user_id, count in rows if user_id is not None}


def _locked_cursor(session: Session, group_id: int) -> AssignmentCursor:
    insert_once(
        session,
        AssignmentCursor,
        "group_id",
        {"group_id": group_id, "last_user_id": None, "assigned_count": 0, "updated_at": utcnow()},
    )
    return session.scalars(
        select(AssignmentCursor)
        .where(AssignmentCursor.group_id == group_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _after(users: Sequence[User], last_user_id: int | None) -> list[User]:
    """`users` (sorted by id) starting with the first after `last_user_id`, wrapping."""
    if last_user_id is None:
        return list(users)
    split = next((i for i, user in enumerate(users) if user.id > last_user_id), 0)
    return [*users[split:], *users[:split]]
