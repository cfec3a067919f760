"""Splitting messages off a ticket into a new ticket: the mail moves (its email-log rows, the
comments it made and its attachments), both tickets link (`split`, in `linked_tickets`; the
new one keeps the source's team), both note and audit the other, and later
replies to a moved message thread onto the new ticket, because threading finds its
Message-ID stored there (`intake/threading.py`), as after a merge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hubdesk.customers import service as customers
from hubdesk.errors import ValidationFailed
from hubdesk.tickets import links, search
from hubdesk.tickets import service as tickets
from hubdesk.tickets.concurrency import check_version
from hubdesk.tickets.models import Attachment, Comment, EmailLog, Ticket
from hubdesk.users.permissions import TICKETS_CREATE, TICKETS_EDIT, Principal

MAX_SPLIT = 100


def split_messages(
    session: Session,
    actor: Principal,
    source: Ticket,
    email_ids: Sequence[int],
    *,
    tz: ZoneInfo,
    now: datetime,
    expected_version: int | None = None,
) -> Ticket:
    """A new ticket from the inbound messages `email_ids` of `source` (which keeps the rest)."""
    actor.require(TICKETS_CREATE)
    actor.require(TICKETS_EDIT)
    check_version(source, expected_version)
    if source.merged_into_id is not None:
        raise ValidationFailed(
            f"ticket {source.ticket_number} was merged into another ticket; split that one"
        )
    wanted = sorted(set(email_ids))
    if not wanted or len(wanted) > MAX_SPLIT:
        raise ValidationFailed(f"email_ids: name 1 to {MAX_SPLIT} messages of the ticket")
    logs = list(
        session.scalars(
            select(EmailLog)
            .where(EmailLog.id.in_(wanted), EmailLog.ticket_id == source.id)
            .order_by(EmailLog.id)
        )
    )
    missing = sorted(set(wanted) - {log.id for log in logs})
    if missing:
        raise ValidationFailed(
            f"email_ids: {', '.join(map(str, missing))} is not a message of ticket "
            f"{source.ticket_number}"
        )
    for log in logs:
        if log.direction != "inbound":
            raise ValidationFailed(
                f"email {log.id} is an outgoing message; only received mail can be split off"
            )
        if not log.is_reply:
            raise ValidationFailed(
                f"email {log.id} opened ticket {source.ticket_number}; split off later messages"
            )
    first = logs[0]
    new = tickets.create_ticket(
        session,
        actor,
        tickets.NewTicket(
            subject=first.email_subject or source.subject,
            description=first.body_visible or first.body_text,
            priority=source.priority,
            **_party(session, source, first.email_from),
            custom_fields=_fields(source, first),
            source="email",
            team_id=source.team_id,
        ),
        tz=tz,
        now=now,
        reindex=False,
    )
    moved = _move(session, source, new, [log.id for log in logs])
    links.link(session, source, new, "split", now=now)
    tickets.add_participant(session, new, first.email_from, "sender")
    source.updated_at = now
    for ticket, body in (
        (new, f"Split off ticket {source.ticket_number}."),
        (source, f"Messages were split off into ticket {new.ticket_number}."),
    ):
        session.add(
            Comment(
                ticket_id=ticket.id,
                body=body,
                is_internal=True,
                author_user_id=actor.user_id,
                source="system",
                created_at=now,
            )
        )
    tickets.flush_ticket(session, source)
    tickets.record_event(
        session,
        actor,
        source,
        "split_off",
        {"split_to": [None, new.ticket_number], "moved": [None, moved]},
    )
    tickets.record_event(
        session,
        actor,
        new,
        "split_from",
        {"split_from": [None, source.ticket_number], "moved": [None, moved]},
    )
    search.reindex_ticket(session, source)
    search.reindex_ticket(session, new)
    return new


def _party(session: Session, source: Ticket, sender: str) -> dict[str, Any]:
    """The new ticket's contact: the sender's contact (with its customer), else none."""
    contact = customers.find_contact(session, sender) if sender else None
    if contact is None:
        return {"customer_id": source.customer_id if source.contact_id is None else None}
    return {"contact_id": contact.id, "customer_id": contact.customer_id}


def _fields(source: Ticket, first: EmailLog) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "split_from": source.ticket_number,
        "email_from": first.email_from or None,
        "email_message_id": first.email_message_id,
        "created_from_email": True,
    }
    if first.email_received_at is not None:
        received = first.email_received_at
        received = received if received.tzinfo else received.replace(tzinfo=UTC)
        fields["email_received_at"] = received.isoformat()  # the SLA clock starts there
    return fields


def _move(session: Session, source: Ticket, target: Ticket, ids: list[int]) -> dict[str, Any]:
    attachment_ids = list(
        session.scalars(
            select(Attachment.id).where(
                Attachment.ticket_id == source.id, Attachment.email_log_id.in_(ids)
            )
        )
    )
    session.execute(update(EmailLog).where(EmailLog.id.in_(ids)).values(ticket_id=target.id))
    session.execute(
        update(Comment)
        .where(Comment.ticket_id == source.id, Comment.email_log_id.in_(ids))
        .values(ticket_id=target.id)
    )
    session.execute(
        update(Attachment)
        .where(Attachment.ticket_id == source.id, Attachment.email_log_id.in_(ids))
        .values(ticket_id=target.id)
    )
    return {"emails": ids, "attachments": attachment_ids}
