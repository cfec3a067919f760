"""Quarantined mail is not a dead end: its headers decoded for a person to read, dismissing
it (kept, hidden from the problems list, undone by restoring), and turning it into a ticket
by hand.

Headers are read with the standard library's header parser alone (a quarantined message is
often one the full parser refused), each value decoded (RFC 2047) and cut to a readable
length; nothing of the body is rendered. Dismissing needs `inbound.reprocess` and is
audited; so is making a ticket, which also needs `tickets.create`. Making a ticket locks the
ledger row first, so a second click finds the ticket the first made (`created` False).
The ticket keeps the exact mail as an `.eml` attachment, its subject, the sender (or the
address the admin entered when the mail had none) as contact, and the customer the admin
chose (else the contact's).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from typing import Any, Final

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.customers import service as customers
from hubdesk.db.paging import Page, paginate
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage, QuarantineDismissal
from hubdesk.runtime import Runtime
from hubdesk.tickets import attachments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import INBOUND_REPROCESS, INBOUND_VIEW, TICKETS_CREATE, Principal
from hubdesk.users.service import normalize_email

MAX_HEADERS: Final = 200
MAX_VALUE: Final = 2000
NO_SUBJECT: Final = "(no subject)"


def readable_headers(raw: bytes) -> list[tuple[str, str]]:
    """(name, decoded value) for each header of `raw`, in order, at most `MAX_HEADERS`."""
    message = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    found: list[tuple[str, str]] = []
    for name, value in message.raw_items():
        try:
            text = str(message.policy.header_fetch_parse(name, value))
        except Exception:  # a header the decoder cannot read is shown as received
            text = str(value)
        text = " ".join(text.split())
        if len(text) > MAX_VALUE:
            text = text[:MAX_VALUE] + " …"
        found.append((name, text))
        if len(found) == MAX_HEADERS:
            break
    return found


def header_sender(headers: list[tuple[str, str]]) -> str:
    """The address of the first From header, or ""."""
    for name, value in headers:
        if name.lower() == "from":
            return parseaddr(value)[1]
    return ""


def _dismissed() -> Any:
    return exists().where(QuarantineDismissal.inbound_id == InboundMessage.id)


def list_quarantined(
    session: Session, principal: Principal, *, dismissed: bool, limit: int, offset: int
) -> Page[Any]:
    """Quarantined mail not dismissed (or, with `dismissed`, only the dismissed ones)."""
    principal.require(INBOUND_VIEW)
    statement = select(InboundMessage).where(
        InboundMessage.status == "quarantined", _dismissed() if dismissed else ~_dismissed()
    )
    statement = statement.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
    return paginate(session, statement, limit=limit, offset=offset)


def count_waiting(session: Session) -> int:
    """Quarantined mail nobody has dismissed or made a ticket of."""
    return (
        session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.status == "quarantined", ~_dismissed())
        )
        or 0
    )


def dismissal(session: Session, row: InboundMessage) -> QuarantineDismissal | None:
    return session.get(QuarantineDismissal, row.id)


def dismiss(session: Session, actor: Principal, row: InboundMessage, note: str = "") -> bool:
    """Hide a quarantined message from the problems list; False when it already was."""
    actor.require(INBOUND_REPROCESS)
    if row.status != "quarantined":
        raise Conflict(f"inbound message {row.id} is not quarantined (it is {row.status})")
    if dismissal(session, row) is not None:
        return False
    session.add(
        QuarantineDismissal(
            inbound_id=row.id,
            dismissed_at=utcnow(),
            actor_user_id=actor.user_id,
            note=note.strip()[:500],
        )
    )
    session.flush()
    changes = {"dismissed": [False, True], "note": [None, note.strip()[:500]]}
    _audit(session, actor, row, "quarantine_dismissed", changes)
    return True


def restore(session: Session, actor: Principal, row: InboundMessage) -> bool:
    """Undo a dismissal; False when the message was not dismissed."""
    actor.require(INBOUND_REPROCESS)
    found = dismissal(session, row)
    if found is None:
        return False
    session.delete(found)
    session.flush()
    _audit(session, actor, row, "quarantine_restored", {"dismissed": [True, False]})
    return True


@dataclass(frozen=True, slots=True)
class Made:
    ticket: Ticket
    created: bool


def make_ticket(
    session: Session,
    runtime: Runtime,
    actor: Principal,
    inbound_id: int,
    *,
    sender: str = "",
    customer_id: int | None = None,
    team_id: int | None = None,
) -> Made:
    """A ticket from a quarantined message, by hand (see the module's note), of `team_id`
    (the team of the mailbox the message arrived at: `intake.prologue.inbound_team`)."""
    actor.require(INBOUND_REPROCESS)
    actor.require(TICKETS_CREATE)
    row = inbound.lock(session, inbound_id)
    if row.ticket_id is not None:
        existing = session.get(Ticket, row.ticket_id)
        if existing is not None:
            return Made(existing, created=False)
    if row.status != "quarantined":
        raise Conflict(f"inbound message {row.id} is not quarantined (it is {row.status})")
    raw = inbound.raw_bytes(runtime.blobs, row)
    found = readable_headers(raw)
    headers = {name.lower(): value for name, value in reversed(found)}
    address = sender.strip() or row.from_address or header_sender(found)
    if not address:
        raise ValidationFailed("sender: the mail has no sender; enter the customer's address")
    address = normalize_email(address)
    if customer_id is not None:
        customers.get_customer(session, actor, customer_id)
    subject = (row.subject or headers.get("subject") or "").strip()[:1000] or NO_SUBJECT
    contact = customers.ensure_contact(session, actor, email=address)
    reason = row.reason.split(":", 1)[0] if row.reason else "quarantined"
    ticket = tickets.create_ticket(
        session,
        actor,
        tickets.NewTicket(
            subject=subject,
            description=(
                f"From: {address}\nReceived: {row.received_at.isoformat()}\n\n"
                f"Made by hand from quarantined mail #{row.id} ({reason}); "
                "the mail as received is attached."
            ),
            customer_id=customer_id if customer_id is not None else contact.customer_id,
            contact_id=contact.id,
            custom_fields={
                "email_from": address,
                "email_message_id": row.message_id,
                "created_from_email": True,
                "email_received_at": row.received_at.isoformat(),
                "from_quarantine": row.id,
                "priority_reason": "made by hand from quarantine",
            },
            source="email",
            team_id=team_id,
        ),
        tz=runtime.settings.tz,
    )
    attachments.add_attachment(
        session,
        actor,
        runtime.blobs,
        ticket,
        filename=f"inbound-{row.id}.eml",
        content_type="message/rfc822",
        stream=io.BytesIO(raw),
    )
    tickets.add_participant(session, ticket, address, "contact")
    inbound.settle(
        row,
        "processed",
        f"manual_ticket: made by hand by {actor.email} (was {row.reason})",
        ticket_id=ticket.id,
    )
    hidden = dismissal(session, row)
    if hidden is not None:
        session.delete(hidden)
    _audit(
        session,
        actor,
        row,
        "quarantine_ticket_made",
        {
            "status": ["quarantined", "processed"],
            "ticket_id": [None, ticket.id],
            "ticket_number": [None, ticket.ticket_number],
            "sender": [None, address],
        },
    )
    return Made(ticket, created=True)


def _audit(
    session: Session, actor: Principal, row: InboundMessage, action: str, changes: Any
) -> None:
    audit.record(
        session,
        actor,
        entity_type="inbound_message",
        entity_id=row.id,
        action=action,
        changes=changes,
    )
