"""Teams: a team is a user group (`groups`) that mailboxes and tickets name.

A ticket's team decides whose queues show it (the ticket lists, the dashboard, saved views):
the members of that team, and its assignee whatever their teams. A ticket without a team
shows in everyone's queues, and a user
with `tickets.all_teams` (the admins) sees every team's. It is a queue, not a lock: anyone
with `tickets.view` still opens a ticket by its number or link (docs/teams.md).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from hubdesk.audit import service as audit
from hubdesk.auth import TICKETS_ALL_TEAMS, USERS_MANAGE, Principal
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.text import single_line
from hubdesk.users.models import Group, UserGroup


def sees_all_teams(principal: Principal) -> bool:
    return principal.user_id is None or principal.can(TICKETS_ALL_TEAMS)


def queue_condition(
    principal: Principal,
    team_column: InstrumentedAttribute[int | None],
    assignee_column: InstrumentedAttribute[int | None],
) -> ColumnElement[bool] | None:
    """The condition a ticket meets to be in the principal's queues (None: every row): no
    team, one of the principal's teams, or assigned to the principal (a ticket given to
    someone outside its team is still theirs to answer)."""
    if sees_all_teams(principal):
        return None
    mine = select(UserGroup.group_id).where(UserGroup.user_id == principal.user_id)
    return or_(
        team_column.is_(None),
        team_column.in_(mine),
        assignee_column == principal.user_id,
    )


def check_team(session: Session, team_id: int | None) -> Group | None:
    """The group `team_id` names, or a 422 naming the known ones (None: no team)."""
    if team_id is None:
        return None
    group = session.get(Group, team_id)
    if group is None:
        known = ", ".join(
            f"{g.id} ({g.name})" for g in session.scalars(select(Group).order_by(Group.id))
        )
        raise ValidationFailed(f"team_id: group {team_id} does not exist; groups: {known}")
    return group


def team_names(session: Session) -> dict[int, str]:
    """Every group's name by id (few rows: for labels on pages and in reports)."""
    rows = session.execute(select(Group.id, Group.name).order_by(Group.name))
    return {int(row.id): str(row.name) for row in rows}


def create_team(session: Session, actor: Principal, *, name: str, description: str = "") -> Group:
    """A new group without permissions, to be a team: its members get their permissions from
    their other groups (agents, ...) and see its tickets in their queues (audited)."""
    actor.require(USERS_MANAGE)
    cleaned = single_line(name, 100)
    if not cleaned:
        raise ValidationFailed("name must not be empty")
    if session.scalar(select(Group.id).where(Group.name == cleaned)) is not None:
        raise Conflict(f"a group named {cleaned!r} exists already")
    group = Group(name=cleaned, description=single_line(description, 500))
    session.add(group)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="group",
        entity_id=group.id,
        action="created",
        changes=audit.created({"name": group.name, "description": group.description}),
    )
    return group
