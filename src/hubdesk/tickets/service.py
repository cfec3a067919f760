"""Writing tickets: create, update (with the status state machine), merge, delete.

Every function here writes, records its audit rows in the caller's transaction, and never
commits. Reads start from `hubdesk.tickets.visibility`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from hubdesk.audit import service as audit
from hubdesk.customers.models import Contact, Customer
from hubdesk.db import ids, reads, rows
from hubdesk.db.types import utcnow
from hubdesk.errors import ValidationFailed
from hubdesk.outbox.notify import notify_agent
from hubdesk.runtime import Runtime
from hubdesk.sla import service as sla
from hubdesk.text import multi_line, single_line
from hubdesk.tickets import search
from hubdesk.tickets.concurrency import StaleTicket, check_version
from hubdesk.tickets.models import (
    Attachment,
    Comment,
    EmailLog,
    Ticket,
    TicketParticipant,
    TicketTag,
)
from hubdesk.tickets.numbers import next_ticket_number
from hubdesk.tickets.states import (
    OPEN_STATES,
    PRIORITIES,
    SOURCES,
    STATUSES,
    allowed_transitions,
    check_transition,
)
from hubdesk.tickets.tags import MAX_TAGS, normalize_tags
from hubdesk.users import teams
from hubdesk.users.models import User
from hubdesk.users.permissions import (
    TICKETS_ASSIGN,
    TICKETS_CREATE,
    TICKETS_DELETE,
    TICKETS_EDIT,
    Principal,
)

MAX_SUBJECT: Final = 1000
EDITABLE_FIELDS: Final = frozenset(
    {
        "subject",
        "description",
        "status",
        "priority",
        "customer_id",
        "contact_id",
        "assigned_to_user_id",
        "tags",
        "custom_fields",
        "team_id",
    }
)


@dataclass(frozen=True)
class NewTicket:
    subject: str
    description: str = ""
    status: str = "open"
    priority: str = "normal"
    customer_id: int | None = None
    contact_id: int | None = None
    assigned_to_user_id: int | None = None
    tags: tuple[str, ...] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    source: str = "api"
    team_id: int | None = None


def record_event(
    session: Session, actor: Principal, ticket: Ticket, action: str, changes: Mapping[str, Any]
) -> None:
    """The audit row of something that happened to `ticket` (in the caller's transaction)."""
    audit.record(
        session,
        actor,
        entity_type="ticket",
        entity_id=ticket.id,
        ticket_id=ticket.id,
        action=action,
        changes=changes,
    )
    # SLA hook: keep the ticket's SLA clock in step with what just happened (sla/service.py).
    sla.on_ticket_event(session, ticket, action)


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """The audited fields of a ticket, for diffs."""
    return {
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "customer_id": ticket.customer_id,
        "contact_id": ticket.contact_id,
        "assigned_to_user_id": ticket.assigned_to_user_id,
        "tags": ticket.tags,
        "custom_fields": dict(ticket.custom_fields or {}),
        "merged_into_id": ticket.merged_into_id,
        "team_id": ticket.team_id,
    }


def create_ticket(
    session: Session,
    actor: Principal,
    new: NewTicket,
    *,
    tz: ZoneInfo,
    now: datetime | None = None,
    reindex: bool = True,
) -> Ticket:
    """Open a ticket. `reindex=False` leaves the search document to a caller that adds
    more to the ticket in the same transaction and indexes once at the end."""
    actor.require(TICKETS_CREATE)
    if new.assigned_to_user_id is not None:
        actor.require(TICKETS_ASSIGN)
    now = now or utcnow()
    subject = _clean_subject(new.subject)
    _check_choice("status", new.status, STATUSES)
    if new.status not in OPEN_STATES:
        raise ValidationFailed(f"a new ticket starts open; status {new.status!r} is not allowed")
    _check_choice("priority", new.priority, PRIORITIES)
    _check_choice("source", new.source, SOURCES)
    _check_references(session, new.customer_id, new.contact_id, new.assigned_to_user_id)
    _check_contact_customer(session, new.contact_id, new.customer_id)
    teams.check_team(session, new.team_id)
    ticket = rows.new(
        Ticket,
        ticket_number=next_ticket_number(session, now, tz),
        subject=subject,
        description=multi_line(new.description),
        status=new.status,
        priority=new.priority,
        customer_id=new.customer_id,
        contact_id=new.contact_id,
        assigned_to_user_id=new.assigned_to_user_id,
        custom_fields=_check_custom_fields(new.custom_fields),
        source=new.source,
        team_id=new.team_id,
        created_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    tags = normalize_tags(new.tags)
    rows.add(session, ticket)
    if not ids.assign(session, ticket):  # a bulk batch numbers it now, flushes it later
        session.flush()
    # the tags as new rows of their own, and the collection set as loaded with them: no
    # collection event, backref or cascade walk a tag (2.5 % of a bulk batch, py-spy,
    # `bench.bulk_cpu --count 4000`, 2026-12-06); nothing to read for a new ticket
    tag_rows = [
        rows.new(TicketTag, ticket_id=ticket.id, tag=tag, position=i) for i, tag in enumerate(tags)
    ]
    for tag_row in tag_rows:
        rows.add(session, tag_row)
    set_committed_value(ticket, "tag_rows", tag_rows)
    record_event(
        session,
        actor,
        ticket,
        "created",
        audit.created({"ticket_number": ticket.ticket_number, **snapshot(ticket)}),
    )
    if reindex:
        search.reindex_ticket(session, ticket)
    return ticket


def update_ticket(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    changes: Mapping[str, Any],
    *,
    now: datetime | None = None,
    expected_version: int | None = None,
    runtime: Runtime | None = None,
) -> Ticket:
    """Apply `changes` (field -> new value); only fields present are touched.

    `expected_version` is the version the caller read; a ticket changed since is refused
    with `StaleTicket` before anything is touched. With `runtime` (an agent's edit: the API,
    the ticket page, bulk assign), a ticket given to another agent than the actor notifies
    that agent (`notify_assigned`); the automatic paths pass none and notify themselves."""
    check_version(ticket, expected_version)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))}; editable fields: "
            f"{', '.join(sorted(EDITABLE_FIELDS))}"
        )
    if set(changes) - {"assigned_to_user_id"}:
        actor.require(TICKETS_EDIT)
    if "assigned_to_user_id" in changes:
        actor.require(TICKETS_ASSIGN)
    if ticket.merged_into_id is not None:
        raise ValidationFailed(
            f"ticket {ticket.ticket_number} was merged into another ticket; change that one"
        )
    if changes.get("status") is not None:
        # Refuse a bad transition before any field changes, so nothing is half-applied.
        check_transition(ticket.status, changes["status"])
    now = now or utcnow()
    before = snapshot(ticket)
    _apply_changes(session, ticket, changes, now)
    after = snapshot(ticket)
    diff = audit.changes_between(before, after)
    if not diff:
        return ticket
    ticket.updated_at = now
    flush_ticket(session, ticket)
    record_event(session, actor, ticket, "updated", diff)
    if {"subject", "description"} & set(diff):
        search.reindex_ticket(session, ticket)
    if runtime is not None and "assigned_to_user_id" in diff:
        notify_assigned(session, runtime, actor, ticket, now)
    return ticket


def notify_assigned(
    session: Session, runtime: Runtime, actor: Principal, ticket: Ticket, now: datetime
) -> None:
    """Tell the ticket's new assignee by mail, unless nobody is assigned or the actor took
    the ticket themselves (`hubdesk.outbox.notify`: their preferences, the interval)."""
    if ticket.assigned_to_user_id in (None, actor.user_id):
        return
    notify_agent(session, runtime, ticket, event="assigned", now=now)


def flush_ticket(session: Session, ticket: Ticket) -> None:
    """Flush; another transaction that wrote the ticket first (its version moved on under
    us) becomes `StaleTicket` rather than a server error."""
    number, expected = ticket.ticket_number, ticket.version
    try:
        session.flush()
    except StaleDataError:
        raise StaleTicket(number, expected, None) from None


def _apply_changes(
    session: Session, ticket: Ticket, changes: Mapping[str, Any], now: datetime
) -> None:
    if "subject" in changes:
        ticket.subject = _clean_subject(_required(changes, "subject"))
    if "description" in changes:
        ticket.description = multi_line(changes["description"] or "")
    if "priority" in changes:
        ticket.priority = _check_choice("priority", _required(changes, "priority"), PRIORITIES)
    _check_references(
        session,
        changes.get("customer_id"),
        changes.get("contact_id"),
        changes.get("assigned_to_user_id"),
    )
    if changes.get("contact_id") is not None:
        _check_contact_customer(
            session, changes["contact_id"], changes.get("customer_id", ticket.customer_id)
        )
    for key in ("customer_id", "contact_id", "assigned_to_user_id"):
        if key in changes:
            setattr(ticket, key, changes[key])
    if "team_id" in changes:
        teams.check_team(session, changes["team_id"])
        ticket.team_id = changes["team_id"]
    if "tags" in changes:
        set_tags(ticket, normalize_tags(changes["tags"] or []))
    if "custom_fields" in changes:
        ticket.custom_fields = _check_custom_fields(changes["custom_fields"] or {})
    if "status" in changes:
        change_status(ticket, _required(changes, "status"), now)


def change_status(ticket: Ticket, new_status: str, now: datetime) -> None:
    """Move `ticket` to `new_status` through the state machine, keeping the timestamps."""
    check_transition(ticket.status, new_status)
    if new_status == ticket.status:
        return
    if new_status == "resolved":
        ticket.resolved_at = now
    elif new_status == "closed":
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif new_status in OPEN_STATES:
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.status = new_status


def close_path(status: str) -> list[str]:
    """The statuses a ticket passes through to be closed, as the state machine allows:
    straight to closed when it may, else by way of resolved (pure)."""
    if status == "closed":
        return []
    allowed = allowed_transitions(status)
    if "closed" not in allowed and "resolved" in allowed:
        return ["resolved", "closed"]
    return ["closed"]


def close_ticket(
    session: Session, actor: Principal, ticket: Ticket, *, now: datetime | None = None
) -> Ticket:
    """Close a ticket from any status, resolving it first where the state machine asks."""
    for status in close_path(ticket.status):
        update_ticket(session, actor, ticket, {"status": status}, now=now)
    return ticket


def set_tags(ticket: Ticket, tags: list[str]) -> None:
    existing = {row.tag: row for row in ticket.tag_rows}
    kept = []
    for position, tag in enumerate(tags):
        row = existing.get(tag) or TicketTag(tag=tag)
        row.position = position
        kept.append(row)
    ticket.tag_rows = kept


def add_tags(ticket: Ticket, tags: list[str]) -> list[str]:
    """Append `tags` that the ticket lacks, up to the limit; returns the tags added."""
    current = ticket.tags
    added = [t for t in tags if t not in current][: max(0, MAX_TAGS - len(current))]
    if added:
        set_tags(ticket, current + added)
    return added


def merge_ticket(
    session: Session,
    actor: Principal,
    source: Ticket,
    target: Ticket,
    *,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Merge `source` into `target`: source closes and points at target; target gains the
    source's mail, files, participants, contact and tags, and both get a note naming the
    other (the audit rows list what moved). Replies to the source's messages thread onto the
    target from now on: their Message-IDs are now stored on it, and our signed ones name the
    source, which threading follows through `merged_into_id`.
    """
    actor.require(TICKETS_EDIT)
    check_version(source, expected_version)
    if source.id == target.id:
        raise ValidationFailed("a ticket cannot be merged into itself")
    if source.merged_into_id is not None:
        raise ValidationFailed(f"ticket {source.ticket_number} is already merged")
    if target.merged_into_id is not None:
        raise ValidationFailed(
            f"ticket {target.ticket_number} was itself merged; merge into the ticket it went to"
        )
    now = now or utcnow()
    source_before, target_before = snapshot(source), snapshot(target)
    source.merged_into_id = target.id
    source.status = "closed"
    source.closed_at = now
    source.updated_at = now
    target.updated_at = now
    add_tags(target, source.tags)
    moved = _move_conversation(session, source, target)
    session.add_all(
        [
            Comment(
                ticket_id=target.id,
                body=f"Ticket {source.ticket_number} was merged into this ticket.",
                is_internal=True,
                author_user_id=actor.user_id,
                source="system",
                created_at=now,
            ),
            Comment(
                ticket_id=source.id,
                body=f"This ticket was merged into {target.ticket_number}.",
                is_internal=True,
                author_user_id=actor.user_id,
                source="system",
                created_at=now,
            ),
        ]
    )
    session.flush()
    for ticket, before, action in (
        (source, source_before, "merged_into"),
        (target, target_before, "merged_from"),
    ):
        diff = audit.changes_between(before, snapshot(ticket))
        diff["merge"] = [None, {"source": source.ticket_number, "target": target.ticket_number}]
        diff["moved"] = [None, moved]
        record_event(session, actor, ticket, action, diff)
        search.reindex_ticket(session, ticket)
    return target


def _move_conversation(session: Session, source: Ticket, target: Ticket) -> dict[str, Any]:
    """Move the source's mail to the target: its email-log rows (so replies to any of their
    Message-IDs thread onto the target), the comments those mails made, its files, its
    participants and its contact (as a participant, and as the target's contact when the
    target has none). Returns what moved, for the audit rows of both tickets."""
    email_ids = list(session.scalars(select(EmailLog.id).where(EmailLog.ticket_id == source.id)))
    attachment_ids = list(
        session.scalars(select(Attachment.id).where(Attachment.ticket_id == source.id))
    )
    session.execute(
        update(EmailLog).where(EmailLog.ticket_id == source.id).values(ticket_id=target.id)
    )
    session.execute(
        update(Comment)
        .where(Comment.ticket_id == source.id, Comment.email_log_id.is_not(None))
        .values(ticket_id=target.id)
    )
    session.execute(
        update(Attachment).where(Attachment.ticket_id == source.id).values(ticket_id=target.id)
    )
    people = _move_participants(session, source, target)
    if source.contact_id is not None:
        contact = session.get(Contact, source.contact_id)
        if contact is not None:
            add_participant(session, target, contact.email, "contact")
            people.append(contact.email.lower())
        if target.contact_id is None:
            target.contact_id = source.contact_id
            if target.customer_id is None:
                target.customer_id = source.customer_id
    return {
        "emails": email_ids,
        "attachments": attachment_ids,
        "participants": sorted(set(people)),
    }


def _move_participants(session: Session, source: Ticket, target: Ticket) -> list[str]:
    have = set(
        session.scalars(
            select(TicketParticipant.email).where(TicketParticipant.ticket_id == target.id)
        )
    )
    moved = []
    for row in list(
        session.scalars(select(TicketParticipant).where(TicketParticipant.ticket_id == source.id))
    ):
        if row.email not in have:
            session.add(TicketParticipant(ticket_id=target.id, email=row.email, role=row.role))
            have.add(row.email)
        moved.append(row.email)
        session.delete(row)
    session.flush()
    return moved


def delete_ticket(
    session: Session,
    actor: Principal,
    ticket: Ticket,
    *,
    now: datetime | None = None,
    expected_version: int | None = None,
) -> None:
    """Soft delete: the row stays (the audit and email log keep pointing at it)."""
    actor.require(TICKETS_DELETE)
    check_version(ticket, expected_version)
    now = now or utcnow()
    ticket.deleted_at = now
    ticket.updated_at = now
    flush_ticket(session, ticket)
    record_event(session, actor, ticket, "deleted", {"deleted_at": [None, now.isoformat()]})


def add_participant(session: Session, ticket: Ticket, email: str, role: str) -> bool:
    """Record `email` as taking part in `ticket`; returns False when it already did."""
    email = email.lower()
    exists = reads.get(session, TicketParticipant, (ticket.id, email))
    if exists is not None:
        return False
    session.add(rows.new(TicketParticipant, ticket_id=ticket.id, email=email, role=role))
    return True


def add_first_participants(
    session: Session, ticket: Ticket, people: Iterable[tuple[str, str]]
) -> None:
    """The first participants of a ticket created in this transaction, which has none yet
    (so nothing is read back): each address once, with the first role named for it."""
    seen: set[str] = set()
    for email, role in people:
        address = email.lower()
        if address not in seen:
            seen.add(address)
            participant = rows.new(TicketParticipant, ticket_id=ticket.id, email=address, role=role)
            rows.add(session, participant)


def _clean_subject(value: str) -> str:
    subject = single_line(value, MAX_SUBJECT)
    if not subject:
        raise ValidationFailed("subject must not be empty")
    return subject


def _required(changes: Mapping[str, Any], key: str) -> Any:
    value = changes[key]
    if value is None:
        raise ValidationFailed(f"{key} cannot be null")
    return value


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationFailed(f"{name} {value!r} is not valid; use one of: {', '.join(choices)}")
    return value


def _check_custom_fields(value: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationFailed("custom_fields must be a JSON object")
    return dict(value)


def _check_contact_customer(
    session: Session, contact_id: int | None, customer_id: int | None
) -> None:
    """A contact that belongs to a customer is the contact only of that customer's tickets:
    replies go to the contact, so another customer's contact would receive this ticket's mail
    (as a prepaid card of another customer is refused)."""
    contact = reads.get(session, Contact, contact_id) if contact_id is not None else None
    if contact is None or contact.customer_id is None or contact.customer_id == customer_id:
        return
    ticket_customer = f"customer {customer_id}" if customer_id is not None else "no customer"
    raise ValidationFailed(
        f"contact {contact.id} belongs to customer {contact.customer_id}, but the ticket has "
        f"{ticket_customer}; choose a contact of the ticket's customer (or set customer_id to "
        f"{contact.customer_id})"
    )


def _check_references(
    session: Session,
    customer_id: int | None,
    contact_id: int | None,
    assignee_id: int | None,
) -> None:
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise ValidationFailed(f"customer {customer_id} does not exist")
    # a contact a bulk batch made is pending until the chunk's flush: read without one
    if contact_id is not None and reads.get(session, Contact, contact_id) is None:
        raise ValidationFailed(f"contact {contact_id} does not exist")
    if assignee_id is not None:
        user = session.get(User, assignee_id)
        if user is None or not user.active:
            raise ValidationFailed(f"user {assignee_id} does not exist or is not active")
