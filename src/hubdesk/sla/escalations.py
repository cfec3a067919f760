"""SLA escalations, run by the worker: when a pending target reaches its warning moment or
its due time, fire the policy's actions for it once.

"Once" is kept by the database: each event has a key (ticket, target, warning|breach, the
start of that target's clock) that is unique in `sla_escalations`; the row is inserted with
ON CONFLICT DO NOTHING before any action runs, in the same transaction as the actions. A
second worker (or the same one after a restart) that sees the same moment inserts nothing
and does nothing; on PostgreSQL it waits on the first one's uncommitted key and then finds
it, on SQLite writers are serialised. Each fired event is logged with what its actions did,
and as an audit row on the ticket.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hubdesk.automation import assignment, reasons
from hubdesk.db.types import utcnow
from hubdesk.outbox.notify import notify_agent, notify_user
from hubdesk.runtime import Runtime
from hubdesk.sla import service as sla
from hubdesk.sla.models import SlaClock, SlaEscalation, SlaPolicy
from hubdesk.sla.timers import Due, due_times
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import PRIORITIES, PRIORITY_RANK
from hubdesk.users.models import Group, User, UserGroup
from hubdesk.users.permissions import SYSTEM

log = logging.getLogger(__name__)

BATCH: Final = 200
"""Clocks looked at per run; the next run takes the rest."""


def evaluate(runtime: Runtime, now: datetime | None = None) -> int:
    """Fire every escalation that is due; returns how many fired (the worker's job)."""
    now = now or utcnow()
    with runtime.db.transaction(write=False) as session:
        ticket_ids = list(
            session.scalars(
                select(SlaClock.ticket_id)
                .join(Ticket, Ticket.id == SlaClock.ticket_id)
                .where(
                    SlaClock.paused.is_(False),
                    SlaClock.stopped_at.is_(None),
                    SlaClock.policy_id.is_not(None),
                    Ticket.deleted_at.is_(None),
                    Ticket.merged_into_id.is_(None),
                    or_(SlaClock.warning_at <= now, SlaClock.next_due_at <= now),
                )
                .order_by(SlaClock.warning_at, SlaClock.ticket_id)
                .limit(BATCH)
            )
        )
    fired = 0
    for ticket_id in ticket_ids:
        with runtime.db.transaction() as session:
            fired += _escalate(session, runtime, ticket_id, now)
    if fired:
        log.info("SLA: %d escalation(s) fired", fired)
    return fired


def _escalate(session: Session, runtime: Runtime, ticket_id: int, now: datetime) -> int:
    clock = session.get(SlaClock, ticket_id)
    ticket = session.get(Ticket, ticket_id)
    if clock is None or ticket is None or clock.policy_id is None:
        return 0
    policy = session.get(SlaPolicy, clock.policy_id)
    targets = sla.targets_of(policy, clock.last_priority) if policy is not None else None
    if policy is None or targets is None:
        return 0
    dues = due_times(sla.calendar_of(policy), targets, sla.facts_of(clock), policy.warning_percent)
    fired = 0
    for due in dues.values():
        kind = _kind(due, now)
        if kind is None:
            continue
        if not _claim(session, clock, policy, due, kind, now):
            continue
        fired += 1
        actions = (sla.DEFAULT_ESCALATIONS | policy.escalations).get(kind, [])
        done = [(step, _run(session, runtime, ticket, step, kind, now)) for step in actions]
        row = session.scalars(
            select(SlaEscalation).where(SlaEscalation.event_key == _key(clock, due, kind))
        ).one()
        row.actions = [{**_label(step), "result": reasons.english(result)} for step, result in done]
        tickets.record_event(
            session,
            SYSTEM,
            ticket,
            "sla_breached" if kind == "breach" else "sla_warning",
            {
                "target": [None, due.target],
                "due_at": [None, due.due_at.isoformat() if due.due_at else None],
                "actions": [None, [_logged(step, result) for step, result in done]],
            },
        )
    return fired


def _kind(due: Due, now: datetime) -> str | None:
    if not due.pending:
        return None
    if due.due_at is not None and due.due_at <= now:
        return "breach"
    if due.warning_at is not None and due.warning_at <= now:
        return "warning"
    return None


def _key(clock: SlaClock, due: Due, kind: str) -> str:
    return f"{clock.ticket_id}:{due.target}:{kind}:{due.start.isoformat()}"


def _claim(
    session: Session, clock: SlaClock, policy: SlaPolicy, due: Due, kind: str, now: datetime
) -> bool:
    """Insert the event's row unless its key exists; True when this call inserted it."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(SlaEscalation)
        .values(
            event_key=_key(clock, due, kind),
            ticket_id=clock.ticket_id,
            policy_id=policy.id,
            kind=kind,
            target=due.target,
            due_at=due.due_at,
            fired_at=now,
            actions=[],
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(SlaEscalation.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def _label(step: str | dict[str, Any]) -> dict[str, str]:
    """The log's name of a step: `{"action": "notify_group", "group": "Tier 2"}`."""
    if isinstance(step, str):
        return {"action": step}
    return {key: str(value) for key, value in step.items()}


STEP_MESSAGES: Final = {
    "notify_assignee": "sla_notify_assignee",
    "raise_priority": "sla_raise_priority",
    "notify_group": "sla_notify_group",
    "reassign": "sla_reassign",
}
"""The log's message of each action (`hubdesk.automation.reasons`)."""


def _logged(step: str | dict[str, Any], result: reasons.Part) -> reasons.Part:
    """One line of the audit row's log: the action and what it did, as message keys."""
    action = step if isinstance(step, str) else str(step["action"])
    if action == "notify_group" and isinstance(step, dict):
        return reasons.part("sla_notify_group", group=str(step["group"]), result=result)
    if action in STEP_MESSAGES and action != "notify_group":
        return reasons.part(STEP_MESSAGES[action], result=result)
    return reasons.part("sla_other_action", action=action, result=result)


def _level(priority: str) -> reasons.Part:
    return reasons.part(f"priority_{priority}")


def _run(
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    step: str | dict[str, Any],
    kind: str,
    now: datetime,
) -> reasons.Part:
    """Run one action of an escalation; returns what it did (the run's log line), as a
    message key with its parameters."""
    action = step if isinstance(step, str) else str(step["action"])
    params: dict[str, Any] = {} if isinstance(step, str) else step
    if action == "notify_assignee":
        if ticket.assigned_to_user_id is None:
            return reasons.part("sla_no_assignee")
        row = notify_agent(session, runtime, ticket, event=f"sla_{kind}", now=now)
        if row is None:
            return reasons.part("sla_not_sent")
        return reasons.part("sla_queued", outbox_id=row.id)
    if action == "raise_priority":
        rank = PRIORITY_RANK[ticket.priority]
        if rank + 1 >= len(PRIORITIES):
            return reasons.part("sla_priority_already", priority=_level(ticket.priority))
        before, after = ticket.priority, PRIORITIES[rank + 1]
        tickets.update_ticket(session, SYSTEM, ticket, {"priority": after}, now=now)
        return reasons.part("sla_priority_raised", before=_level(before), after=_level(after))
    if action == "notify_group":
        return _notify_group(session, runtime, ticket, str(params["group"]), kind, now)
    if action == "reassign":
        return _reassign(session, runtime, ticket, params, now)
    return reasons.part("sla_unknown_action")


def _notify_group(
    session: Session, runtime: Runtime, ticket: Ticket, name: str, kind: str, now: datetime
) -> reasons.Part:
    group = session.scalars(select(Group).where(Group.name == name)).first()
    if group is None:
        return reasons.part("no_group", group=name)
    queued = [
        row.id
        for member in group_members(session, group.id)
        if (row := notify_user(session, runtime, ticket, member, event=f"sla_{kind}", now=now))
        is not None
    ]
    if not queued:
        return reasons.part("sla_group_nobody", group=name)
    return reasons.part("sla_group_queued", outbox_ids=", ".join(map(str, queued)), group=name)


def _reassign(
    session: Session, runtime: Runtime, ticket: Ticket, params: dict[str, Any], now: datetime
) -> reasons.Part:
    why: list[reasons.Part] = []
    if "user_id" in params:
        user = session.get(User, int(params["user_id"]))
        if user is None or not user.active:
            return reasons.part("sla_user_inactive", user_id=params["user_id"])
        chosen = user.id
    else:
        choice = assignment.pick(
            session, str(params["group"]), runtime.settings.ticket_auto_assign_strategy, now=now
        )
        if choice.user_id is None:
            return reasons.part("sla_not_reassigned", why=list(choice.why) or choice.reason)
        chosen, why = choice.user_id, list(choice.why)
    before = ticket.assigned_to_user_id
    if before == chosen:
        return reasons.part("sla_already_assigned", user_id=chosen)
    tickets.update_ticket(
        session, SYSTEM, ticket, {"assigned_to_user_id": chosen}, now=now, runtime=runtime
    )
    message = ("sla_reassigned" if before is not None else "sla_assigned") + ("_why" if why else "")
    extra: dict[str, Any] = {"why": why} if why else {}
    if before is not None:
        extra["before"] = before
    return reasons.part(message, user_id=chosen, **extra)


def group_members(session: Session, group_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(UserGroup, UserGroup.user_id == User.id)
            .where(UserGroup.group_id == group_id, User.active.is_(True))
            .order_by(User.id)
        )
    )
