"""SLA policies (create, change, delete, choose for a ticket) and the ticket clock: the hooks
that the ticket service calls keep each ticket's clock in step with what happens to it.

Rules (docs/sla.md): the clock starts when the ticket is created (from mail: the received
time); it pauses while the status is waiting_customer and resumes when it leaves it; an
agent's public comment meets the first response, then each later one meets the next
response owed since a customer reply; resolving or closing stops the clock. A priority or
customer change recomputes every due time from the same starts with the new targets; a
reopening starts a new resolution clock at the moment of reopening; a merge restarts the
target's clocks from the earlier of the two tickets' starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from hubdesk.audit import service as audit
from hubdesk.customers.models import Customer
from hubdesk.db import reads, rows
from hubdesk.db.memo import memo
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, NotFound, ValidationFailed
from hubdesk.sla import report_facts
from hubdesk.sla.calendar import DAYS, BusinessCalendar, build_calendar
from hubdesk.sla.models import SlaClock, SlaPolicy, SlaPolicyCustomer
from hubdesk.sla.schemas import SlaOut
from hubdesk.sla.timers import (
    Due,
    Facts,
    Targets,
    decode_pauses,
    due_times,
    encode_pauses,
)
from hubdesk.text import single_line
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import OPEN_STATES, PRIORITIES
from hubdesk.users.models import Group, User
from hubdesk.users.permissions import SLA_MANAGE, Principal

DEFAULT_ESCALATIONS: dict[str, list[str]] = {
    "warning": ["notify_assignee"],
    "breach": ["notify_assignee", "raise_priority"],
}


# --- policies ---------------------------------------------------------------------------


def list_policies(session: Session, principal: Principal) -> list[SlaPolicy]:
    principal.require(SLA_MANAGE)
    return list(session.scalars(select(SlaPolicy).order_by(SlaPolicy.name, SlaPolicy.id)))


def get_policy(session: Session, principal: Principal, policy_id: int) -> SlaPolicy:
    principal.require(SLA_MANAGE)
    policy = session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    return policy


def create_policy(
    session: Session, actor: Principal, fields: Mapping[str, Any], *, now: datetime | None = None
) -> SlaPolicy:
    actor.require(SLA_MANAGE)
    now = now or utcnow()
    policy = SlaPolicy(created_at=now, updated_at=now, escalations=dict(DEFAULT_ESCALATIONS))
    _apply(session, policy, {"default": False, "warning_percent": 80, **fields})
    session.add(policy)
    session.flush()
    _set_customers(session, policy, fields.get("customer_ids") or [])
    audit.record(
        session,
        actor,
        entity_type="sla_policy",
        entity_id=policy.id,
        action="created",
        changes=audit.created(_snapshot(policy)),
    )
    return policy


def update_policy(
    session: Session,
    actor: Principal,
    policy: SlaPolicy,
    changes: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> SlaPolicy:
    actor.require(SLA_MANAGE)
    before = _snapshot(policy)
    _apply(session, policy, {k: v for k, v in changes.items() if v is not None})
    if changes.get("customer_ids") is not None:
        _set_customers(session, policy, changes["customer_ids"])
    diff = audit.changes_between(before, _snapshot(policy))
    if diff:
        policy.updated_at = now or utcnow()
        session.flush()
        if {"calendar", "targets", "warning_percent"} & set(diff):
            _recompute_running(session, policy, policy.updated_at)
        audit.record(
            session,
            actor,
            entity_type="sla_policy",
            entity_id=policy.id,
            action="updated",
            changes=diff,
        )
    return policy


def _recompute_running(session: Session, policy: SlaPolicy, now: datetime) -> None:
    """New hours or targets apply to the policy's running clocks at once (same starts)."""
    for clock in session.scalars(
        select(SlaClock).where(SlaClock.policy_id == policy.id, SlaClock.stopped_at.is_(None))
    ):
        recompute(session, clock, now)


def delete_policy(session: Session, actor: Principal, policy: SlaPolicy) -> None:
    """Delete a policy; the tickets that used it keep their due times but no longer follow
    a policy (their clocks point at none)."""
    actor.require(SLA_MANAGE)
    snapshot = _snapshot(policy)
    policy_id = policy.id
    # Their report facts were computed in this policy's calendar: mark them stale (the
    # reports compute those tickets at request time, in wall-clock time), so that a later
    # policy given the same id and calendar cannot pass them off as its own.
    session.execute(
        report_facts.forget(select(SlaClock.ticket_id).where(SlaClock.policy_id == policy_id))
    )
    session.execute(update(SlaClock).where(SlaClock.policy_id == policy_id).values(policy_id=None))
    session.delete(policy)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="sla_policy",
        entity_id=policy_id,
        action="deleted",
        changes={key: [value, None] for key, value in snapshot.items()},
    )


def calendar_of(policy: SlaPolicy) -> BusinessCalendar:
    return build_calendar(policy.timezone, policy.hours, policy.holidays, policy.country_holidays)


def targets_of(policy: SlaPolicy, priority: str) -> Targets | None:
    raw = policy.targets.get(priority)
    if raw is None:
        return None
    return Targets(
        int(raw["first_response_minutes"]),
        int(raw["next_response_minutes"]),
        int(raw["resolution_minutes"]),
    )


def policy_for(session: Session, customer_id: int | None) -> SlaPolicy | None:
    """The customer's own policy, else the default policy, else none."""
    if customer_id is not None:
        row = session.get(SlaPolicyCustomer, customer_id)
        if row is not None:
            return session.get(SlaPolicy, row.policy_id)
    return session.scalars(select(SlaPolicy).where(SlaPolicy.is_default.is_(True))).first()


def _apply(session: Session, policy: SlaPolicy, fields: Mapping[str, Any]) -> None:
    if "name" in fields:
        name = single_line(fields["name"] or "", 200)
        if not name:
            raise ValidationFailed("name must not be empty")
        clash = session.scalars(
            select(SlaPolicy.id).where(SlaPolicy.name == name, SlaPolicy.id != policy.id)
        ).first()
        if clash is not None:
            raise Conflict(f"an SLA policy named {name!r} already exists (id {clash})")
        policy.name = name
    if "calendar" in fields:
        raw = fields["calendar"]
        calendar = build_calendar(
            raw["timezone"], raw["hours"], raw.get("holidays") or [], raw.get("country_holidays")
        )
        policy.timezone = calendar.timezone
        policy.hours = {day: [list(w) for w in raw["hours"].get(day, [])] for day in DAYS}
        policy.holidays = sorted({d.isoformat() for d in calendar.closed_days})
        policy.country_holidays = calendar.country_holidays
    if "targets" in fields:
        policy.targets = _check_targets(fields["targets"])
    if "warning_percent" in fields:
        percent = int(fields["warning_percent"])
        if not 1 <= percent <= 99:
            raise ValidationFailed("warning_percent must be between 1 and 99")
        policy.warning_percent = percent
    if "escalations" in fields:
        policy.escalations = check_escalations(session, fields["escalations"])
    if "default" in fields:
        if fields["default"]:
            other = session.scalars(
                select(SlaPolicy).where(SlaPolicy.is_default.is_(True), SlaPolicy.id != policy.id)
            ).first()
            if other is not None:
                raise ValidationFailed(
                    f"policy {other.name!r} (id {other.id}) is already the default; "
                    "set its default to false first (there is one default policy)"
                )
        policy.is_default = bool(fields["default"])


def check_escalations(session: Session, raw: Mapping[str, Any]) -> dict[str, Any]:
    """`{"warning": [...], "breach": [...]}` with each step checked: a name, or an object
    naming the action and its group or user (docs/sla.md#escalations)."""
    out: dict[str, Any] = {}
    for kind, steps in dict(raw).items():
        if kind not in DEFAULT_ESCALATIONS:
            raise ValidationFailed(f"escalations: unknown moment {kind!r}; use warning or breach")
        out[kind] = [_check_step(session, kind, step) for step in steps]
    return out


def _check_step(session: Session, kind: str, raw: Any) -> str | dict[str, Any]:
    given: dict[str, Any] = {"action": raw} if isinstance(raw, str) else dict(raw)
    step = {key: value for key, value in given.items() if value is not None}
    action, where = step.get("action"), f"escalations.{kind}"
    if action in ("notify_assignee", "raise_priority"):
        if set(step) != {"action"}:
            raise ValidationFailed(f"{where}: {action} takes no group or user_id")
        return str(action)
    if action == "notify_group":
        if "user_id" in step or "group" not in step:
            raise ValidationFailed(f"{where}: notify_group needs a group (and no user_id)")
    elif action == "reassign":
        if ("group" in step) == ("user_id" in step):
            raise ValidationFailed(
                f"{where}: reassign needs either a user_id or a group (its next available agent)"
            )
    else:
        raise ValidationFailed(
            f"{where}: unknown action {action!r}; use notify_assignee, raise_priority, "
            "notify_group or reassign"
        )
    group = step.get("group")
    if (
        group is not None
        and session.scalars(select(Group.id).where(Group.name == group)).first() is None
    ):
        raise ValidationFailed(f"{where}: group {step['group']!r} does not exist")
    if "user_id" in step:
        user = session.get(User, step["user_id"])
        if user is None or not user.active:
            raise ValidationFailed(f"{where}: user {step['user_id']} does not exist or is inactive")
    return step


def _check_targets(raw: Mapping[str, Any]) -> dict[str, Any]:
    if not raw:
        raise ValidationFailed(
            f"targets must name at least one priority of {', '.join(PRIORITIES)}"
        )
    unknown = sorted(set(raw) - set(PRIORITIES))
    if unknown:
        raise ValidationFailed(
            f"targets: unknown priority {', '.join(unknown)}; use {', '.join(PRIORITIES)}"
        )
    out = {}
    for priority in PRIORITIES:
        if priority in raw:
            value = dict(raw[priority])
            out[priority] = {
                key: int(value[key])
                for key in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
            }
    return out


def _set_customers(session: Session, policy: SlaPolicy, customer_ids: Sequence[int]) -> None:
    wanted = sorted(set(customer_ids))
    for customer_id in wanted:
        if session.get(Customer, customer_id) is None:
            raise ValidationFailed(f"customer_ids: customer {customer_id} does not exist")
        row = session.get(SlaPolicyCustomer, customer_id)
        if row is not None and row.policy_id != policy.id:
            other = session.get(SlaPolicy, row.policy_id)
            raise ValidationFailed(
                f"customer {customer_id} already has the policy "
                f"{other.name if other else row.policy_id!r}; remove it there first"
            )
    existing = {row.customer_id: row for row in policy.customer_rows}
    policy.customer_rows = [
        existing.get(c) or SlaPolicyCustomer(customer_id=c, policy_id=policy.id) for c in wanted
    ]
    session.flush()


def _snapshot(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "default": policy.is_default,
        "customer_ids": policy.customer_ids,
        "calendar": calendar_json(policy),
        "targets": policy.targets,
        "warning_percent": policy.warning_percent,
        "escalations": policy.escalations,
    }


def calendar_json(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "timezone": policy.timezone,
        "hours": {day: policy.hours.get(day, []) for day in DAYS},
        "holidays": list(policy.holidays),
        "country_holidays": policy.country_holidays,
    }


def policy_json(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "created_at": policy.created_at,
        "updated_at": policy.updated_at,
        **_snapshot(policy),
        "escalations": {**DEFAULT_ESCALATIONS, **policy.escalations},
    }


# --- the ticket clock (hooks) -------------------------------------------------------------


def on_ticket_event(session: Session, ticket: Ticket, action: str) -> None:
    """Bring the ticket's clock in step after `action` (created, updated, merged_from, ...).
    The moment is the ticket's `updated_at`, which every writer sets to its `now`."""
    now = ticket.updated_at
    # a ticket created just now has no clock yet (no read; the clock's key is the ticket's)
    clock = None if action == "created" else clock_of(session, ticket)
    if clock is None:
        clock = _start_clock(session, ticket)
        if action == "created":
            return
    changed = False
    if action == "merged_from":
        changed = _absorb_merged(session, ticket, clock)
    if ticket.status != clock.last_status:
        _status_changed(clock, clock.last_status, ticket.status, now)
        clock.last_status = ticket.status
        changed = True
    if ticket.priority != clock.last_priority or ticket.customer_id != clock.last_customer_id:
        clock.last_priority = ticket.priority
        clock.last_customer_id = ticket.customer_id
        clock.policy_id = _policy_id(session, ticket.customer_id)
        changed = True
    if changed:
        recompute(session, clock, now)
    refresh_report_facts(session, clock)


def on_comment(
    session: Session, ticket: Ticket, *, by_agent: bool, public: bool, now: datetime
) -> None:
    """An agent's public comment meets a response; a customer's comment (a reply) owes one."""
    clock = clock_of(session, ticket)
    if clock is not None:
        refresh_report_facts(session, clock)
    if clock is None or not public or clock.stopped_at is not None:
        return
    if by_agent:
        if clock.first_response_met_at is None:
            clock.first_response_met_at = now
            _judge(clock, "first_response", clock.first_response_due_at, now)
        elif clock.awaiting_since is not None:
            clock.next_response_met_at = now
            _judge(clock, "next_response", clock.next_response_due_at, now)
            clock.awaiting_since = None
        else:
            return  # a second answer before the customer wrote again: nothing is owed or met
    elif clock.first_response_met_at is not None and clock.awaiting_since is None:
        clock.awaiting_since = now
        clock.next_response_met_at = None
    else:
        # The customer writes again while an answer is owed already: the due times stand
        # (no recompute, so no write: most replies of a mail import are these).
        return
    recompute(session, clock, now)


def _judge(clock: SlaClock, target: str, due: datetime | None, met: datetime) -> None:
    if due is not None and met > due and target not in clock.missed:
        clock.missed = [*clock.missed, target]


def clock_of(session: Session, ticket: Ticket) -> SlaClock | None:
    return reads.get(session, SlaClock, ticket.id)


def _policy_id(session: Session, customer_id: int | None) -> int | None:
    """The id of `policy_for` (read once per transaction and customer, so once per bulk
    batch; dropped when the session writes a policy or a customer's policy)."""

    def read() -> int | None:
        policy = policy_for(session, customer_id)
        return policy.id if policy is not None else None

    return memo(
        session, ("sla_policy_id", customer_id), read, depends_on=(SlaPolicy, SlaPolicyCustomer)
    )


def _started(ticket: Ticket) -> datetime:
    """When the clock starts: a ticket from mail counts from the time the mail was received
    (kept in `custom_fields.email_received_at`), never later than its creation."""
    received = (ticket.custom_fields or {}).get("email_received_at")
    if isinstance(received, str):
        try:
            at = datetime.fromisoformat(received)
        except ValueError:
            return ticket.created_at
        created = ticket.created_at
        if at.tzinfo is not None and created.tzinfo is None:
            at = at.astimezone(UTC).replace(tzinfo=None)
        return min(at, created)
    return ticket.created_at


def _start_clock(session: Session, ticket: Ticket) -> SlaClock:
    start = _started(ticket)
    clock = rows.new(
        SlaClock,
        ticket_id=ticket.id,
        policy_id=_policy_id(session, ticket.customer_id),
        started_at=start,
        resolution_started_at=start,
        pauses=[],
        missed=[],
        last_status=ticket.status,
        last_priority=ticket.priority,
        last_customer_id=ticket.customer_id,
        first_response_met_at=ticket.first_response_at,
        paused=False,
        updated_at=start,
    )
    if ticket.status == "waiting_customer":
        clock.pauses = encode_pauses([(start, None)])
    if ticket.status not in OPEN_STATES:
        clock.stopped_at = ticket.resolved_at or ticket.closed_at or start
    rows.add(session, clock)
    recompute(session, clock, start)
    # No flush of its own: its key is the ticket's (nothing to learn from the INSERT), so the
    # clock goes with the session's next flush; a `clock_of` before that finds it through
    # the autoflush of its look-up (a flush per new ticket fewer on the ingest path).
    return clock


def _status_changed(clock: SlaClock, before: str, after: str, now: datetime) -> None:
    pauses = list(decode_pauses(clock.pauses))
    if after == "waiting_customer" and before != "waiting_customer":
        pauses.append((now, None))
    if before == "waiting_customer" and after != "waiting_customer":
        pauses = [(s, e if e is not None else max(now, s)) for s, e in pauses]
    if after not in OPEN_STATES and before in OPEN_STATES:
        clock.stopped_at = now
        _judge(clock, "resolution", clock.resolution_due_at, now)
        clock.awaiting_since = None
    if after in OPEN_STATES and before not in OPEN_STATES:
        # A reopening: a new resolution clock from now; what was missed stays missed.
        clock.stopped_at = None
        clock.resolution_started_at = now
    clock.pauses = encode_pauses(pauses)


def _absorb_merged(session: Session, target: Ticket, clock: SlaClock) -> bool:
    """The target of a merge: the customer has waited since the earliest of the tickets."""
    sources = session.scalars(
        select(SlaClock)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(Ticket.merged_into_id == target.id)
    ).all()
    changed = False
    for source in sources:
        if source.started_at < clock.started_at:
            clock.started_at = source.started_at
            if clock.resolution_started_at > source.resolution_started_at:
                clock.resolution_started_at = source.resolution_started_at
            changed = True
        if (
            source.awaiting_since is not None
            and (clock.awaiting_since is None or source.awaiting_since < clock.awaiting_since)
            and clock.first_response_met_at is not None
        ):
            clock.awaiting_since = source.awaiting_since
            changed = True
    return changed


def report_stamp(policy: SlaPolicy) -> str:
    """The calendar stamp the reports' per-ticket facts are computed with."""
    return report_facts.stamp(
        policy.id, policy.timezone, policy.hours, policy.holidays, policy.country_holidays
    )


def refresh_report_facts(session: Session, clock: SlaClock) -> None:
    """Bring the reports' per-ticket facts on the clock's ticket row in step with the ticket
    and its policy (nothing is computed or written when the inputs have not changed, nor
    for a ticket with nothing to measure yet). A Core UPDATE of the fact columns alone: the
    ticket's `version` is not bumped, and the loaded ticket is told the new values."""
    ticket = reads.get(session, Ticket, clock.ticket_id)
    if ticket is None:
        return
    if ticket.first_response_at is None and ticket.resolved_at is None:
        return
    policy = session.get(SlaPolicy, clock.policy_id) if clock.policy_id is not None else None
    current = report_stamp(policy) if policy is not None else report_facts.WALL
    if (
        ticket.report_stamp == current
        and ticket.report_created_at == ticket.created_at
        and ticket.report_first_at == ticket.first_response_at
        and ticket.report_resolved_at == ticket.resolved_at
    ):
        return
    pieces = report_facts.Pieces(calendar_of(policy)) if policy is not None else None
    first_s, resolution_s = report_facts.durations(
        ticket.created_at, ticket.first_response_at, ticket.resolved_at, pieces
    )
    values = {
        "report_created_at": ticket.created_at,
        "report_first_at": ticket.first_response_at,
        "report_resolved_at": ticket.resolved_at,
        "report_stamp": current,
        "report_first_s": first_s,
        "report_resolution_s": resolution_s,
    }
    session.execute(
        report_facts.FACTS_UPDATE,
        {
            "tid": ticket.id,
            "c": values["report_created_at"],
            "f": values["report_first_at"],
            "r": values["report_resolved_at"],
            "s": current,
            "fs": first_s,
            "rs": resolution_s,
        },
    )
    for name, value in values.items():
        set_committed_value(ticket, name, value)


def recompute(session: Session, clock: SlaClock, now: datetime) -> None:
    """Store the clock's due times (with its policy's targets for the ticket's priority)."""
    refresh_report_facts(session, clock)
    clock.updated_at = now
    facts = facts_of(clock)
    clock.paused = facts.paused
    policy = session.get(SlaPolicy, clock.policy_id) if clock.policy_id is not None else None
    targets = targets_of(policy, clock.last_priority) if policy is not None else None
    if policy is None or targets is None:
        clock.first_response_due_at = clock.next_response_due_at = None
        clock.resolution_due_at = clock.next_due_at = clock.warning_at = None
        return
    dues = due_times(calendar_of(policy), targets, facts, policy.warning_percent)
    clock.first_response_due_at = (
        dues["first_response"].due_at if "first_response" in dues else None
    )
    clock.next_response_due_at = dues["next_response"].due_at if "next_response" in dues else None
    clock.resolution_due_at = dues["resolution"].due_at if "resolution" in dues else None
    pending = [d for d in dues.values() if d.pending]
    due_list = [d.due_at for d in pending if d.due_at is not None]
    warn_list = [d.warning_at for d in pending if d.warning_at is not None]
    clock.next_due_at = min(due_list) if due_list else None
    clock.warning_at = min(warn_list) if warn_list else None


def _due(dues: Mapping[str, Due], target: str) -> datetime | None:
    return dues[target].due_at if target in dues else None


def facts_of(clock: SlaClock) -> Facts:
    return Facts(
        started_at=clock.started_at,
        resolution_started_at=clock.resolution_started_at,
        pauses=decode_pauses(clock.pauses),
        awaiting_since=clock.awaiting_since,
        first_response_met_at=clock.first_response_met_at,
        next_response_met_at=clock.next_response_met_at,
        stopped_at=clock.stopped_at,
    )


def clock_state(clock: SlaClock, now: datetime) -> str:
    """The clock's state at `now` from its stored due times (no policy lookup)."""
    facts = facts_of(clock)
    if clock.policy_id is None and not clock.missed:
        return "met" if facts.stopped_at is not None else ("paused" if facts.paused else "ok")
    pending = []
    for target, due in (
        ("first_response", clock.first_response_due_at),
        ("next_response", clock.next_response_due_at),
        ("resolution", clock.resolution_due_at),
    ):
        if facts.start_of(target) is not None and facts.met_at(target) is None:
            pending.append(due)
    if facts.stopped_at is not None:
        return "breached" if clock.missed else "met"
    if clock.missed or any(d is not None and d <= now for d in pending):
        return "breached"
    if facts.paused:
        return "paused"
    if clock.warning_at is not None and clock.warning_at <= now:
        return "warning"
    return "ok"


def view(clock: SlaClock | None, now: datetime, tz: Any = None) -> SlaOut:
    """A ticket's `sla` field: due times in the policy's time zone, and its state."""
    if clock is None:
        return SlaOut()
    policy = clock_policy(clock)
    zone = tz or (calendar_of(policy).tz if policy is not None else None)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment is not None and zone is not None else moment

    return SlaOut(
        policy_id=clock.policy_id,
        first_response_due_at=local(clock.first_response_due_at),
        next_response_due_at=local(clock.next_response_due_at),
        resolution_due_at=local(clock.resolution_due_at),
        state=clock_state(clock, now),
    )


def ticket_view(session: Session, ticket: Ticket, now: datetime) -> tuple[SlaOut, datetime | None]:
    """For pages: the ticket's `sla` view and its earliest pending due time (or None)."""
    clock = clock_of(session, ticket)
    return view(clock, now), (clock.next_due_at if clock is not None else None)


def clock_policy(clock: SlaClock) -> SlaPolicy | None:
    session = object_session(clock)
    if clock.policy_id is None or session is None:
        return None
    return session.get(SlaPolicy, clock.policy_id)
