"""Automatic assignment: pick an agent of a group for a ticket, round robin or least open.

Only active users marked available (`users.available`) are candidates. The group's cursor
row (`assignment_cursors`) is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite writers
are serialised by BEGIN IMMEDIATE) before the candidates and their open tickets are read,
so two tickets assigned at once never pick by stale state: the second waits for the first
to commit and sees its choice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.automation import reasons
from hubdesk.automation.keys import insert_once
from hubdesk.automation.models import AssignmentCursor
from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import OPEN_STATES
from hubdesk.users.models import Group, User, UserGroup
from hubdesk.users.permissions import SYSTEM

log = logging.getLogger(__name__)

STRATEGIES = ("round_robin", "least_open")


@dataclass(frozen=True)
class Choice:
    user_id: int | None
    why: tuple[reasons.Part, ...]
    """Why this agent (or nobody), as message keys (`hubdesk.automation.reasons`): stored on
    the ticket's timeline and translated when shown. Empty: automatic assignment is off."""

    @property
    def reason(self) -> str:
        """`why` in English (the escalation log, the worker's output)."""
        return reasons.english(list(self.why)) if self.why else "automatic assignment is off"


def pick(
    session: Session, group_name: str, strategy: str, *, now: datetime | None = None
) -> Choice:
    """The next agent of `group_name` by `strategy`; `user_id` None when nobody is available."""
    group = session.scalars(select(Group).where(Group.name == group_name)).first()
    if group is None:
        return Choice(None, (reasons.part("no_group", group=group_name),))
    return pick_in(session, group, strategy, now=now)


def pick_in(
    session: Session, group: Group, strategy: str, *, now: datetime | None = None
) -> Choice:
    """The next available agent of `group` by `strategy` (its cursor row locked)."""
    cursor = _locked_cursor(session, group.id)
    candidates = available_members(session, group.id)
    if not candidates:
        return Choice(None, (reasons.part("nobody_available", group=group.name),))
    in_turn = _after(candidates, cursor.last_user_id)
    if strategy == "least_open":
        counts = open_counts(session, [u.id for u in candidates])
        chosen = min(in_turn, key=lambda user: counts.get(user.id, 0))  # ties: in turn
        reason = reasons.part("least_open", count=counts.get(chosen.id, 0), group=group.name)
    else:
        chosen = in_turn[0]
        reason = reasons.part("round_robin", group=group.name)
    cursor.last_user_id = chosen.id
    cursor.assigned_count += 1
    cursor.updated_at = now or utcnow()
    session.flush()
    return Choice(chosen.id, (reason,))


def for_new_ticket(session: Session, settings: Settings, *, team_id: int | None = None) -> Choice:
    """The assignee of a new ticket from mail under TICKET_AUTO_ASSIGN (docs/automation.md):
    the group's next available agent, else TICKET_DEFAULT_ASSIGNEE_ID when that user is
    active and available, else nobody. A ticket of a team (docs/teams.md) goes to the next
    available, active member of that team by TICKET_AUTO_ASSIGN_STRATEGY, or, when the team
    has none, to nobody (the reason says so): never to someone outside the team."""
    if not settings.ticket_auto_assign:
        return Choice(None, ())
    team = session.get(Group, team_id) if team_id is not None else None
    if team is not None:
        choice = pick_in(session, team, settings.ticket_auto_assign_strategy)
        if choice.user_id is not None:
            return choice
        log.warning("ticket of team %r left unassigned: no available agent in it", team.name)
        return Choice(None, (reasons.part("team_nobody_available", team=team.name),))
    found: list[reasons.Part] = []
    if settings.ticket_auto_assign_group:
        choice = pick(
            session, settings.ticket_auto_assign_group, settings.ticket_auto_assign_strategy
        )
        if choice.user_id is not None:
            return choice
        found.extend(choice.why)
    default = settings.ticket_default_assignee_id
    if default is not None:
        user = session.get(User, default)
        if user is not None and user.active and user.available:
            return Choice(user.id, (*found, reasons.part("default_assignee")))
        found.append(reasons.part("default_unavailable", user_id=default))
    return Choice(None, tuple(found) or (reasons.part("no_assignee"),))


def record(session: Session, ticket: Ticket, choice: Choice) -> None:
    """The audit row of an automatic assignment (or why there was none) on the timeline."""
    if not choice.why:
        return
    tickets.record_event(
        session,
        SYSTEM,
        ticket,
        "auto_assigned",
        {"assigned_to_user_id": [None, choice.user_id], "reason": [None, list(choice.why)]},
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
