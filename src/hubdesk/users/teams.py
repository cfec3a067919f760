"""Teams: a team is a user group (`groups`) that mailboxes and tickets name.

A ticket's team decides whose queues show it (the ticket lists, the dashboard, saved views):
the members of that team. A ticket without a team shows in everyone's queues, and a user
with `tickets.all_teams` (the admins) sees every team's. It is a queue, not a lock: anyone
with `tickets.view` still opens a ticket by its number or link (docs/teams.md).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from hubdesk.auth import TICKETS_ALL_TEAMS, Principal
from hubdesk.errors import ValidationFailed
from hubdesk.users.models import Group, UserGroup


def sees_all_teams(principal: Principal) -> bool:
    return principal.user_id is None or principal.can(TICKETS_ALL_TEAMS)


def queue_condition(
    principal: Principal, team_column: InstrumentedAttribute[int | None]
) -> ColumnElement[bool] | None:
    """The condition a row's team meets to be in the principal's queues (None: every row)."""
    if sees_all_teams(principal):
        return None
    mine = select(UserGroup.group_id).where(UserGroup.user_id == principal.user_id)
    return or_(team_column.is_(None), team_column.in_(mine))


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
