"""Bounces of our own mail: mark the message bounced, hold further mail to the address, and
tell the agents on the ticket with an internal note."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.mail.types import ParsedEmail
from hubdesk.outbox.models import AddressFlag, OutboxMessage
from hubdesk.tickets import comments
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM


def record_bounce(session: Session, parsed: ParsedEmail, now: datetime) -> int | None:
    """Apply a delivery report to the outgoing message it reports on; returns its ticket id
    (None when the report is about mail we did not send)."""
    if not parsed.bounce_original_message_id:
        return None
    row = session.scalars(
        select(OutboxMessage).where(OutboxMessage.message_id == parsed.bounce_original_message_id)
    ).first()
    if row is None:
        return None
    addresses = [a for a in parsed.bounce_recipients if a in row.recipients] or list(
        parsed.bounce_recipients
    )
    reason = f"bounced for {', '.join(addresses) or 'its recipients'}: {parsed.subject}"[:1000]
    if parsed.bounce_kind != "temporary" and row.status != "bounced":
        before = row.status
        row.status, row.bounced_at, row.reason = "bounced", now, reason
        audit.record(
            session,
            SYSTEM,
            entity_type="outbox_message",
            entity_id=row.id,
            ticket_id=row.ticket_id,
            action="bounced",
            changes={"status": [before, "bounced"]},
        )
    if parsed.bounce_kind == "temporary":
        # A delay warning: the mail may still arrive; nothing is held.
        return row.ticket_id
    for address in addresses:
        flag = session.get(AddressFlag, address) or AddressFlag(email=address, bounce_count=0)
        flag.bouncing = True
        flag.bounce_count = (flag.bounce_count or 0) + 1
        flag.last_bounce_at, flag.last_bounce_reason, flag.updated_at = now, reason, now
        session.add(flag)
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    if ticket is not None:
        comments.add_comment(
            session,
            SYSTEM,
            ticket,
            f"Mail to {', '.join(addresses) or 'the customer'} bounced ({row.message_id}). "
            "Further mail to the address is held until the address flag is cleared.",
            internal=True,
            source="system",
            now=now,
        )
    return row.ticket_id
