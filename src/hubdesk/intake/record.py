"""Putting an email on a ticket: its email-log row, attachments and participants (writes).

A mail's text is stored at most `MAX_STORED_TEXT_CHARS` long (`Mail.body_text`,
`Mail.body_visible`, see `hubdesk.intake.types`, used for the description, the reply comment
and the email log); a longer text is cut with a note, and the email log's flag
`text_shortened` holds the full length so that the ticket page links to the original mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from hubdesk.intake.types import Mail
from hubdesk.mail.types import Address, ParsedEmail
from hubdesk.storage.blobs import Blobs
from hubdesk.tickets.models import Attachment, EmailLog, Ticket
from hubdesk.tickets.service import add_participant


def thread_data(parsed: ParsedEmail) -> dict[str, Any]:
    """The spec's `thread_data` JSON: ids in the `<...>` form, references space-separated."""
    return {
        "message_id": parsed.message_id,
        "in_reply_to": " ".join(parsed.in_reply_to) or None,
        "references": " ".join(parsed.references) or None,
    }


def log_email(session: Session, ticket: Ticket, mail: Mail, *, is_reply: bool) -> EmailLog:
    parsed = mail.parsed
    row = EmailLog(
        ticket_id=ticket.id,
        email_message_id=parsed.message_id,
        email_subject=parsed.subject,
        email_from=mail.sender or "(unknown)",
        email_received_at=mail.received_at,
        is_reply=is_reply,
        thread_data=thread_data(parsed),
        direction="inbound",
        decision=mail.decision.decision,
        reason=mail.decision.reason,
        inbound_id=mail.inbound_id,
        email_to=[a.email for a in parsed.to],
        email_cc=[a.email for a in parsed.cc],
        body_text=mail.body_text,
        body_visible=mail.body_visible,
        body_html=parsed.body_html,
        flags=mail.flags.as_json(),
    )
    if mail.text_shortened:
        row.flags["text_shortened"] = len(parsed.body_text)
    session.add(row)
    session.flush()
    return row


def store_attachments(
    session: Session,
    blobs: Blobs,
    ticket: Ticket,
    mail: Mail,
    email_log: EmailLog,
    *,
    comment_id: int | None = None,
) -> list[Attachment]:
    """Every attachment of the mail, bytes into the blob store, metadata onto the ticket."""
    rows = []
    for attachment in mail.parsed.attachments:
        digest = blobs.put(attachment.payload)
        row = Attachment(
            ticket_id=ticket.id,
            comment_id=comment_id,
            filename=attachment.filename[:255],
            content_type=attachment.content_type[:255],
            size=attachment.size,
            sha256=digest,
            inline=attachment.inline,
            content_id=attachment.content_id[:500] if attachment.content_id else None,
            email_log_id=email_log.id,
        )
        session.add(row)
        rows.append(row)
    if rows:
        session.flush()
    return rows


def cc_participants(addresses: Iterable[Address], ours: frozenset[str]) -> list[str]:
    """CC'd people take part in the ticket; our own addresses never do."""
    return [a.email for a in addresses if a.email not in ours and a.domain not in ours]


def add_cc_participants(
    session: Session, ticket: Ticket, addresses: Iterable[Address], ours: frozenset[str]
) -> None:
    for address in cc_participants(addresses, ours):
        add_participant(session, ticket, address, "cc")
