"""Attachment routes: upload to a ticket, list, and download with the safe headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import WithJsonSchema

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.downloads import PASSIVE_TYPES, attachment_response
from hubdesk.api.limits import MAX_INT, Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, page_of
from hubdesk.tickets import attachments
from hubdesk.tickets.schemas import AttachmentOut
from hubdesk.tickets.visibility import get_visible_ticket

router = APIRouter(tags=["attachments"])
# A multipart field is text and has no null: the comment is named by its id (digits), or the
# field is left out. Text that is not such a number is refused with 422.
CommentIdField = Annotated[
    Id | None,
    Form(description="The comment the file belongs to (leave the field out for none)"),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_INT}),
]


@router.post("/tickets/{ticket_id}/attachments", response_model=AttachmentOut, status_code=201)
def upload(
    ticket_id: Id,
    file: Annotated[
        UploadFile,
        File(
            description="The file (multipart field `file`); an empty file is refused",
            json_schema_extra={"minLength": 1},
        ),
    ],
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    comment_id: CommentIdField = None,
) -> AttachmentOut:
    ticket = get_visible_ticket(session, principal, ticket_id)
    row = attachments.add_attachment(
        session,
        principal,
        runtime.blobs,
        ticket,
        filename=file.filename,
        content_type=file.content_type,
        stream=file.file,
        comment_id=comment_id,
    )
    return AttachmentOut.model_validate(row)


@router.get("/tickets/{ticket_id}/attachments", response_model=ListOf[AttachmentOut])
def list_for_ticket(
    ticket_id: Id, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[AttachmentOut]:
    ticket = get_visible_ticket(session, principal, ticket_id)
    page = attachments.list_attachments(session, ticket, limit=paging.limit, offset=paging.offset)
    return page_of(AttachmentOut, page)


@router.get("/attachments/{attachment_id}", response_model=AttachmentOut)
def metadata(attachment_id: Id, session: SessionDep, principal: PrincipalDep) -> AttachmentOut:
    row = attachments.get_attachment(session, attachment_id)
    get_visible_ticket(session, principal, row.ticket_id)
    return AttachmentOut.model_validate(row)


@router.get(
    "/attachments/{attachment_id}/download",
    responses={
        200: {
            "description": "The file's bytes: its own type when passive, else octet-stream",
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in sorted({*PASSIVE_TYPES, "application/octet-stream"})
            },
        }
    },
)
def download(
    attachment_id: Id, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    """The bytes, verified against their sha256, always as a download."""
    row = attachments.get_attachment(session, attachment_id)
    get_visible_ticket(session, principal, row.ticket_id)
    data = attachments.stored_bytes(runtime.blobs, row)
    return attachment_response(data, filename=row.filename, content_type=row.content_type)
