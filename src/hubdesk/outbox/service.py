"""Queueing outgoing mail: its draft and our Message-ID now, its bytes built and sent after the
transaction that queued it has committed (`hubdesk.outbox.sender`, `hubdesk.outbox.drafts`).

Mail to a ticket is also written to the email log as `outbound`, so a customer's answer to
it threads by In-Reply-To like any other message of the ticket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.config import Settings
from hubdesk.db.paging import Page, paginate
from hubdesk.db.types import utcnow
from hubdesk.errors import NotFound, ValidationFailed
from hubdesk.mail.compose import UnsafeAddress, header_text, plain_address
from hubdesk.outbox import drafts
from hubdesk.outbox.models import OUTBOX_STATUSES, AddressFlag, OutboxMessage
from hubdesk.tickets.message_ids import make_message_id
from hubdesk.tickets.models import EmailLog, Ticket
from hubdesk.tickets.visibility import get_visible_ticket, visible_tickets
from hubdesk.users.permissions import REPLIES_SEND, Principal


def enqueue(
    session: Session,
    settings: Settings,
    secret_key: str,
    actor: Principal,
    *,
    kind: str,
    to: Sequence[str],
    subject: str,
    body: str,
    ticket: Ticket | None = None,
    cc: Sequence[str] = (),
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_submitted: str | None = None,
    envelope_from: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    now: datetime | None = None,
    in_thread: bool = True,
    agent_name: str | None = None,
    visible_body: str | None = None,
    from_address: str | None = None,
) -> OutboxMessage:
    """Compose and queue one message (writes the outbox row, the outbound log, an audit row).

    Mail to the customer is part of the ticket's thread; `in_thread=False` (agent
    notifications) keeps a message about a ticket out of the thread the customer sees.
    `agent_name` makes it From "name via MAIL_FROM_NAME"; `visible_body` is what the ticket's
    timeline shows of it (the reply without its quote), `body` the whole mail text. The bytes
    are built again when sent (`hubdesk.outbox.drafts`).
    """
    now = now or utcnow()
    try:
        recipients = [plain_address(a) for a in to]
    except UnsafeAddress as exc:
        raise ValidationFailed(f"to: {exc}") from None
    try:
        copies = [plain_address(a) for a in cc if plain_address(a) not in recipients]
    except UnsafeAddress as exc:
        raise ValidationFailed(f"cc: {exc}") from None
    if not recipients:
        raise ValidationFailed("an outgoing message needs at least one recipient")
    message_id = (
        make_message_id(ticket.ticket_number, secret_key, settings.mail_domain)
        if ticket is not None
        else make_msgid(domain=settings.mail_domain)
    )
    parts = drafts.draft(
        to=recipients,
        cc=copies,
        subject=subject,
        body=body,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        auto_submitted=auto_submitted,
        agent_name=header_text(agent_name or "", 200) or None,
        envelope_from=envelope_from,
        attachments=attachments,
        from_address=from_address,
    )
    queued_files = {hashlib.sha256(data).hexdigest(): data for _n, _c, data in attachments}
    raw = drafts.build(settings, parts, now, queued_files.__getitem__)
    row = OutboxMessage(
        kind=kind,
        ticket_id=ticket.id if ticket is not None else None,
        recipient=recipients[0].lower(),
        recipients=[a.lower() for a in (*recipients, *copies)],
        envelope_from=envelope_from if envelope_from is not None else settings.sender_address,
        message_id=message_id,
        subject=header_text(subject),
        raw=raw,
        status="pending",
        next_attempt_at=now,
        created_at=now,
        created_by_user_id=actor.user_id,
        meta={"draft": parts},
    )
    held = bouncing_among(session, row.recipients)
    if held:
        row.status = "held"
        row.reason = f"held: mail to {', '.join(held)} bounced before; clear the address flag"
    session.add(row)
    session.flush()
    if ticket is not None and in_thread:
        shown = visible_body if visible_body is not None else body
        row.email_log_id = _log_outbound(
            session, ticket, row, body, shown, in_reply_to, references
        ).id
    audit.record(
        session,
        actor,
        entity_type="outbox_message",
        entity_id=row.id,
        ticket_id=row.ticket_id,
        action="queued",
        changes={"kind": [None, kind], "to": [None, row.recipients], "status": [None, row.status]},
    )
    return row


def _log_outbound(
    session: Session,
    ticket: Ticket,
    row: OutboxMessage,
    body: str,
    visible: str,
    in_reply_to: str | None,
    references: Sequence[str],
) -> EmailLog:
    log = EmailLog(
        ticket_id=ticket.id,
        email_message_id=row.message_id,
        email_subject=row.subject,
        email_from=row.envelope_from or "",
        email_received_at=row.created_at,
        is_reply=in_reply_to is not None,
        thread_data={
            "message_id": row.message_id,
            "in_reply_to": in_reply_to,
            "references": " ".join(references) or None,
        },
        direction="outbound",
        decision=row.kind,
        reason=f"{row.kind} queued for {', '.join(row.recipients)}",
        email_to=[row.recipient],
        email_cc=[r for r in row.recipients if r != row.recipient],
        body_text=body,
        body_visible=visible,
    )
    session.add(log)
    session.flush()
    return log


def bouncing_among(session: Session, addresses: Sequence[str]) -> list[str]:
    if not addresses:
        return []
    return list(
        session.scalars(
            select(AddressFlag.email).where(
                AddressFlag.email.in_([a.lower() for a in addresses]),
                AddressFlag.bouncing.is_(True),
            )
        )
    )


def count_since(
    session: Session,
    *,
    kind: str,
    since: datetime,
    recipient: str | None = None,
    ticket_id: int | None = None,
) -> int:
    """How many messages of `kind` were queued since `since` (for the rate limits)."""
    statement = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.kind == kind,
            OutboxMessage.created_at >= since,
            OutboxMessage.status != "suppressed",
        )
    )
    if recipient is not None:
        statement = statement.where(OutboxMessage.recipient == recipient.lower())
    if ticket_id is not None:
        statement = statement.where(OutboxMessage.ticket_id == ticket_id)
    return session.scalar(statement) or 0


def thread_ids(session: Session, ticket: Ticket) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) for a new message on the ticket: the newest inbound
    message, and every message of the thread oldest first."""
    rows = session.execute(
        select(EmailLog.email_message_id, EmailLog.direction)
        .where(EmailLog.ticket_id == ticket.id)
        .order_by(EmailLog.id)
    ).all()
    ids = [message_id for message_id, _ in rows]
    inbound = [message_id for message_id, direction in rows if direction == "inbound"]
    return (inbound[-1] if inbound else (ids[-1] if ids else None)), ids


def get_message(session: Session, actor: Principal, outbox_id: int) -> OutboxMessage:
    actor.require(REPLIES_SEND)
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise NotFound(f"outgoing message {outbox_id} not found")
    return row


def list_messages(
    session: Session,
    actor: Principal,
    *,
    status: str | None,
    ticket_id: int | None,
    limit: int,
    offset: int,
) -> Page[Any]:
    """Outgoing messages, newest first; `ticket_id` must name a ticket the actor may see."""
    actor.require(REPLIES_SEND)
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status is not None:
        if status not in OUTBOX_STATUSES:
            raise ValidationFailed(
                f"status {status!r} is not valid; use one of {', '.join(OUTBOX_STATUSES)}"
            )
        statement = statement.where(OutboxMessage.status == status)
    if ticket_id is not None:
        get_visible_ticket(session, actor, ticket_id)
        statement = statement.where(OutboxMessage.ticket_id == ticket_id)
    visible = visible_tickets(actor).with_only_columns(Ticket.id)
    statement = statement.where(
        OutboxMessage.ticket_id.is_(None) | OutboxMessage.ticket_id.in_(visible)
    )
    return paginate(session, statement, limit=limit, offset=offset)


def deliveries(session: Session, email_log_ids: Sequence[int]) -> dict[int, OutboxMessage]:
    """The outgoing message behind each outbound email-log row (by `email_log_id`)."""
    if not email_log_ids:
        return {}
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.email_log_id.in_(list(email_log_ids)))
    )
    return {row.email_log_id: row for row in rows if row.email_log_id is not None}


def bouncing_addresses(session: Session, actor: Principal, *, limit: int, offset: int) -> Page[Any]:
    actor.require(REPLIES_SEND)
    statement = (
        select(AddressFlag).where(AddressFlag.bouncing.is_(True)).order_by(AddressFlag.email)
    )
    return paginate(session, statement, limit=limit, offset=offset)


def clear_flag(session: Session, actor: Principal, email: str, now: datetime) -> int:
    """The address works again: mail held only for it goes out. Returns how many held
    messages were released."""
    actor.require(REPLIES_SEND)
    flag = session.get(AddressFlag, email.strip().lower())
    if flag is None or not flag.bouncing:
        raise NotFound(f"{email} is not flagged")
    flag.bouncing, flag.updated_at = False, now
    session.flush()
    released = 0
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.status == "held")).all():
        if flag.email in row.recipients and not bouncing_among(session, row.recipients):
            row.status, row.next_attempt_at, row.reason = "pending", now, "address cleared"
            released += 1
    audit.record(
        session,
        actor,
        entity_type="address_flag",
        entity_id=None,
        action="cleared",
        changes={"email": [flag.email, None], "bouncing": [True, False]},
    )
    return released


def retry(session: Session, actor: Principal, row: OutboxMessage, now: datetime) -> None:
    actor.require(REPLIES_SEND)
    if row.status not in ("failed", "held"):
        raise ValidationFailed(
            f"outgoing message {row.id} is {row.status}; only failed or held messages are retried"
        )
    before = row.status
    row.status, row.next_attempt_at, row.reason = "pending", now, "retry requested"
    audit.record(
        session,
        actor,
        entity_type="outbox_message",
        entity_id=row.id,
        ticket_id=row.ticket_id,
        action="retry_requested",
        changes={"status": [before, "pending"]},
    )


def describe(row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "ticket_id": row.ticket_id,
        "recipients": row.recipients,
        "message_id": row.message_id,
        "subject": row.subject,
        "status": row.status,
        "reason": row.reason,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
        "bounced_at": row.bounced_at,
    }
