"""Putting an email on a ticket: its email-log row, attachments and participants (writes).

A mail's text is stored at most `MAX_STORED_TEXT_CHARS` long (`Mail.body_text`,
`Mail.body_visible`, see `hubdesk.intake.types`, used for the description, the reply comment
and the email log); a longer text is cut with a note, and the email log's flag
`text_shortened` holds the full length so that the ticket page links to the original mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import insert
from sqlalchemy.orm import Session

from hubdesk.db import deferred, ids, rows
from hubdesk.db.types import utcnow
from hubdesk.intake.types import Mail
from hubdesk.mail.types import Address, ParsedEmail
from hubdesk.storage.blobs import Blobs, keep
from hubdesk.tickets.models import Attachment, EmailLog, Ticket
from hubdesk.tickets.service import add_participant


def thread_data(parsed: ParsedEmail) -> dict[str, Any]:
    """The spec's `thread_data` JSON: ids in the `<...>` form, references space-separated."""
    return {
        "message_id": parsed.message_id,
        "in_reply_to": " ".join(parsed.in_reply_to) or None,
        "references": " ".join(parsed.references) or None,
    }


@dataclass(frozen=True, slots=True)
class LoggedEmail:
    """The email-log row `log_email` wrote: its id and the text it stored."""

    id: int
    body_text: str


def log_email(session: Session, ticket: Ticket, mail: Mail, *, is_reply: bool) -> LoggedEmail:
    """The mail's email-log row. A bulk batch (`hubdesk.db.ids` enabled) numbers it now and
    writes it with the batch's next flush, after its ticket: the reads that could see it
    (threading by Message-ID, the new-ticket throttle) flush first when it matters
    (`hubdesk.db.reads.touching`). Elsewhere it is written at once with one Core statement."""
    parsed = mail.parsed
    flags = mail.flags.as_json()
    if mail.text_shortened:
        flags["text_shortened"] = len(parsed.body_text)
    values = {
        "ticket_id": ticket.id,
        "email_message_id": parsed.message_id,
        "email_subject": parsed.subject,
        "email_from": mail.sender or "(unknown)",
        "email_received_at": mail.received_at,
        "is_reply": is_reply,
        "thread_data": thread_data(parsed),
        "direction": "inbound",
        "decision": mail.decision.decision,
        "reason": mail.decision.reason,
        "inbound_id": mail.inbound_id,
        "email_to": [a.email for a in parsed.to],
        "email_cc": [a.email for a in parsed.cc],
        "body_text": mail.body_text,
        "body_visible": mail.body_visible,
        "body_html": parsed.body_html,
        "flags": flags,
        "created_at": utcnow(),
    }
    if ids.active(session):
        row = rows.new(EmailLog, **values)
        ids.assign(session, row)
        rows.add(session, row)
        return LoggedEmail(row.id, mail.body_text)
    log_id = session.connection().execute(_INSERT_LOG, values).scalar_one()
    return LoggedEmail(log_id, mail.body_text)


_INSERT_LOG: Final = insert(EmailLog).returning(EmailLog.id)
"""Built once (every mail binds its values)."""


def store_attachments(
    session: Session,
    blobs: Blobs,
    ticket: Ticket,
    mail: Mail,
    email_log: LoggedEmail,
    inline_max: int,
    *,
    comment_id: int | None = None,
) -> None:
    """Every attachment of the mail, metadata onto the ticket and the bytes into the blob
    store, or into the row itself for a file of at most `inline_max` bytes
    (`HUBDESK_INLINE_MAX_BYTES`: no file of its own to create). In a bulk batch the rows are
    written with the batch's others at its end: nothing in the pipeline reads them back."""
    added = False
    for attachment in mail.parsed.attachments:
        digest, inline = keep(blobs, attachment.payload, inline_max)
        row = {
            "ticket_id": ticket.id,
            "comment_id": comment_id,
            "filename": attachment.filename[:255],
            "content_type": attachment.content_type[:255],
            "size": attachment.size,
            "sha256": digest,
            "inline": attachment.inline,
            "content_id": attachment.content_id[:500] if attachment.content_id else None,
            "uploaded_by_user_id": None,
            "email_log_id": email_log.id,
            "created_at": utcnow(),
            "data_inline": inline,
        }
        if not deferred.insert_row(session, Attachment, row):
            session.add(Attachment(**row))
            added = True
    if added:
        session.flush()


def cc_participants(addresses: Iterable[Address], ours: frozenset[str]) -> list[str]:
    """CC'd people take part in the ticket; our own addresses never do."""
    return [a.email for a in addresses if a.email not in ours and a.domain not in ours]


def add_cc_participants(
    session: Session, ticket: Ticket, addresses: Iterable[Address], ours: frozenset[str]
) -> None:
    for address in cc_participants(addresses, ours):
        add_participant(session, ticket, address, "cc")
