"""An agent's reply to the customer: a public comment and an outgoing message that threads.

The message goes to the ticket's contact (and the given Cc), with In-Reply-To the newest
inbound message of the ticket and References the whole thread, the subject carrying
`[TKT-YYYYMMDD-NNN]` (the spec's best practice) and our signed Message-ID; it is logged in the
email log as outbound. Attachments are files already on the ticket, by id. The mail is From
"Agent name via MAIL_FROM_NAME <our address>" and carries the agent's signature and, below it,
the customer's newest message quoted (`hubdesk.outbox.quoting`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.customers.models import Contact
from hubdesk.errors import ValidationFailed
from hubdesk.outbox import quoting
from hubdesk.outbox import service as outbox
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.storage.blobs import Blobs
from hubdesk.tickets import attachments, comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Attachment, Comment, EmailLog, Ticket
from hubdesk.users.models import User
from hubdesk.users.permissions import REPLIES_SEND, Principal

MAX_ATTACHMENT_BYTES: Final = 20 * 1024 * 1024
_PREFIXES: Final = re.compile(r"\A(?:\s*(?:re|sv|aw|fwd?|vs|wg)\s?:\s?)+", re.IGNORECASE)


def reply_subject(ticket: Ticket) -> str:
    """`Re: [TKT-…] subject`, without piling up prefixes or repeating the token."""
    subject = _PREFIXES.sub("", ticket.subject)
    subject = subject.replace(f"[{ticket.ticket_number}]", "").strip()
    return f"Re: [{ticket.ticket_number}] {subject}".strip()


def send_reply(
    session: Session,
    runtime: Runtime,
    actor: Principal,
    ticket: Ticket,
    *,
    body: str,
    cc: Sequence[str] = (),
    attachment_ids: Sequence[int] = (),
    status: str | None = None,
    now: datetime,
    source: str = "api",
) -> tuple[Comment, OutboxMessage]:
    """The reply as a public comment (`source`: where it was written) and its outgoing
    message; `ValidationFailed` when the ticket has no contact to send it to."""
    actor.require(REPLIES_SEND)
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id is not None else None
    if contact is None:
        raise ValidationFailed(
            f"ticket {ticket.ticket_number} has no contact to reply to; set its contact first"
        )
    files = _attachments(session, runtime.blobs, ticket, attachment_ids)
    comment = comments.add_comment(session, actor, ticket, body, source=source, now=now)
    in_reply_to, references = outbox.thread_ids(session, ticket)
    agent = session.get(User, actor.user_id) if actor.user_id is not None else None
    whole, shown = quoting.reply_text(
        comment.body,
        agent_signature(agent),
        _answered(session, ticket),
        agent.language if agent is not None else "en",
        runtime.settings.tz,
    )
    row = outbox.enqueue(
        session,
        runtime.settings,
        runtime.secret_key,
        actor,
        kind="agent_reply",
        ticket=ticket,
        to=[contact.email],
        cc=cc,
        subject=reply_subject(ticket),
        body=whole,
        visible_body=shown,
        agent_name=agent.name if agent is not None else None,
        in_reply_to=in_reply_to,
        references=references,
        attachments=files,
        now=now,
    )
    comment.email_log_id = row.email_log_id
    for address in row.recipients:
        if address != contact.email:
            tickets.add_participant(session, ticket, address, "cc")
    if status is not None:
        tickets.update_ticket(session, actor, ticket, {"status": status}, now=now)
    return comment, row


def agent_signature(user: User | None) -> str | None:
    """The agent's mail signature (`users.signature`, set on the My account page), or None.
    Read defensively: the column comes with the account page's migration."""
    value = getattr(user, "signature", None)
    return value if isinstance(value, str) and value.strip() else None


def _answered(session: Session, ticket: Ticket) -> tuple[str, str, datetime | None] | None:
    """(text, sender, received) of the ticket's newest incoming mail: the one quoted."""
    log = session.scalars(
        select(EmailLog)
        .where(EmailLog.ticket_id == ticket.id, EmailLog.direction == "inbound")
        .order_by(EmailLog.id.desc())
        .limit(1)
    ).first()
    if log is None:
        return None
    return log.body_text or log.body_visible, log.email_from, log.email_received_at


def _attachments(
    session: Session, blobs: Blobs, ticket: Ticket, ids: Sequence[int]
) -> list[tuple[str, str, bytes]]:
    """(filename, content type, bytes) of the ticket's files `ids`, verified on read."""
    if not ids:
        return []
    rows = {
        a.id: a
        for a in session.scalars(
            select(Attachment).where(Attachment.id.in_(ids), Attachment.ticket_id == ticket.id)
        )
    }
    missing = [i for i in ids if i not in rows]
    if missing:
        raise ValidationFailed(f"attachments {missing} are not files of this ticket")
    if sum(rows[i].size for i in ids) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(f"attachments may total at most {MAX_ATTACHMENT_BYTES} bytes")
    return [
        (rows[i].filename, rows[i].content_type, attachments.stored_bytes(blobs, rows[i]))
        for i in ids
    ]
