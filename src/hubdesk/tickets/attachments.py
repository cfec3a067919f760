"""Files on tickets: uploads into the content-addressed store, and verified reads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, BinaryIO, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db.paging import Page, paginate
from hubdesk.errors import NotFound, StorageError, ValidationFailed
from hubdesk.mail.filenames import safe_filename
from hubdesk.storage.blobs import Blobs, read_kept
from hubdesk.tickets.models import Attachment, Comment, Ticket
from hubdesk.users.permissions import TICKETS_EDIT, Principal

MAX_UPLOAD_BYTES: Final = 25 * 1024 * 1024
_CONTENT_TYPE: Final = re.compile(
    r"\A[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\Z"
)


def clean_content_type(value: str | None) -> str:
    """The declared type when well-formed, else `application/octet-stream`. It is metadata
    only: downloads are always served as attachments that browsers must not sniff."""
    declared = (value or "").split(";")[0].strip().lower()
    return declared if _CONTENT_TYPE.match(declared) else "application/octet-stream"


def add_attachment(
    session: Session,
    actor: Principal,
    blobs: Blobs,
    ticket: Ticket,
    *,
    filename: str | None,
    content_type: str | None,
    stream: BinaryIO,
    comment_id: int | None = None,
) -> Attachment:
    actor.require(TICKETS_EDIT)
    if comment_id is not None:
        comment = session.get(Comment, comment_id)
        if comment is None or comment.ticket_id != ticket.id:
            raise ValidationFailed(f"comment {comment_id} is not a comment of this ticket")
    kind = clean_content_type(content_type)
    try:
        digest, size = blobs.put_stream(stream, max_bytes=MAX_UPLOAD_BYTES)
    except StorageError as exc:
        raise ValidationFailed(str(exc)) from None
    if size == 0:
        raise ValidationFailed("the file is empty")
    row = Attachment(
        ticket_id=ticket.id,
        comment_id=comment_id,
        filename=safe_filename(filename, kind, 1),
        content_type=kind,
        size=size,
        sha256=digest,
        uploaded_by_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="attachment",
        entity_id=row.id,
        ticket_id=ticket.id,
        action="attached",
        changes=audit.created({"filename": row.filename, "size": size, "sha256": digest}),
    )
    return row


def attach_to_comment(session: Session, rows: Sequence[Attachment], comment: Comment) -> None:
    """Mark files uploaded with a reply as the files of its comment (the reply's comment is
    made after its files, which the outgoing mail carries)."""
    for row in rows:
        if row.ticket_id != comment.ticket_id:
            raise ValidationFailed(f"attachment {row.id} is not a file of this ticket")
        row.comment_id = comment.id
    if rows:
        session.flush()


def stored_bytes(blobs: Blobs, row: Attachment) -> bytes:
    """The file's bytes, from its row (a small attachment of received mail) or the blob
    store, checked against its sha256 either way (`StorageError` when they do not match)."""
    corrupt = f"attachment {row.id} does not match its sha256 (corrupt)"
    return read_kept(blobs, row.sha256, row.data_inline, corrupt)


def get_attachment(session: Session, attachment_id: int) -> Attachment:
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"attachment {attachment_id} not found")
    return row


def list_attachments(session: Session, ticket: Ticket, *, limit: int, offset: int) -> Page[Any]:
    statement = select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)
    return paginate(session, statement, limit=limit, offset=offset)
