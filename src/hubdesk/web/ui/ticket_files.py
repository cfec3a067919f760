"""Files uploaded from the ticket page: to the ticket itself (`POST /tickets/{id}/files`),
with an internal note, or with a reply (`ticket_forms`).

Uploads are `multipart/form-data`, field `files` (several at once). Each file is stored
through `hubdesk.tickets.attachments.add_attachment`, as `POST /api/v1/tickets/{id}/
attachments` does: the content-addressed blob store, its size limit (MAX_UPLOAD_BYTES), the
`tickets.edit` permission and an audit row. The sizes are checked before anything is stored,
so a refused upload changes nothing; an empty file input (no file chosen) is ignored. Files
are downloaded from `/attachments/{id}` with the safe-download headers of
`hubdesk.api.downloads` like every other file.

A refused note comes back as the ticket page with the text as typed and the reason
(`refused_on_ticket`), status 422; so does a refused reply (`ticket_forms._refused`), with its
Cc, ticked files and status too. Either way the whole transaction, uploads included, rolls
back, and files chosen for upload must be chosen again (a browser cannot refill a file input).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.access.sessions import BrowserSession
from hubdesk.errors import ValidationFailed
from hubdesk.runtime import Runtime
from hubdesk.tickets import attachments
from hubdesk.tickets.models import Attachment, Comment, Ticket
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.permissions import TICKETS_EDIT, Principal
from hubdesk.web.ui import flash, i18n, once
from hubdesk.web.ui.routing import PageAnswer, ViewerDep, page_router
from hubdesk.web.ui.templating import language_of

router = page_router()


async def posted_files(request: Request) -> list[UploadFile]:
    """The form's `files` parts that are files (a browser sends an empty file input as a
    nameless, empty part; some clients send it as an empty text field)."""
    form = await request.form()
    return [part for part in form.getlist("files") if isinstance(part, UploadFile)]


FilesField = Annotated[list[UploadFile], Depends(posted_files)]
MAX_FILES = 20
"""Files one form may carry."""


def chosen(files: Sequence[UploadFile] | None) -> list[UploadFile]:
    """The files actually chosen (a form with an empty file input sends one nameless part),
    checked against the upload limits before anything is stored."""
    found = [f for f in files or () if f.filename or (f.size or 0) > 0]
    if len(found) > MAX_FILES:
        raise ValidationFailed(f"send at most {MAX_FILES} files at once")
    for upload in found:
        if upload.size is not None and upload.size > attachments.MAX_UPLOAD_BYTES:
            raise ValidationFailed(
                f"{upload.filename or 'a file'} is larger than the limit of "
                f"{_size_text(attachments.MAX_UPLOAD_BYTES)} a file"
            )
        if upload.size == 0:
            raise ValidationFailed(f"{upload.filename or 'a file'} is empty")
    return found


def chosen_quietly(files: Sequence[UploadFile] | None) -> list[UploadFile]:
    """The files actually chosen, without the limits' checks (to say they were dropped)."""
    return [f for f in files or () if f.filename or (f.size or 0) > 0]


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} KB" if size >= 1024 else f"{size} bytes"


def store(
    session: Session,
    principal: Principal,
    runtime: Runtime,
    ticket: Ticket,
    files: Sequence[UploadFile],
    *,
    comment: Comment | None = None,
) -> list[Attachment]:
    """Store `files` on `ticket` (and `comment`) through the attachments service."""
    if files:
        principal.require(TICKETS_EDIT)
    return [
        attachments.add_attachment(
            session,
            principal,
            runtime.blobs,
            ticket,
            filename=upload.filename,
            content_type=upload.content_type,
            stream=upload.file,
            comment_id=comment.id if comment is not None else None,
        )
        for upload in files
    ]


@router.post("/tickets/{ticket_id}/files")
def upload_files(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    files: FilesField,
    form_token: Annotated[str | None, Form()] = None,
) -> Response:
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    viewer.principal.require(TICKETS_EDIT)
    url = f"/tickets/{ticket.id}#h-files"
    claim = once.claim(session, viewer.user_id, form_token)
    if claim.repeat is not None:
        _ = i18n.translator(language_of(request))
        return flash.redirect(request, claim.repeat, _("This form was sent already."))
    found = chosen(files)
    if not found:
        raise ValidationFailed("choose one or more files to upload")
    stored = store(session, viewer.principal, runtime, ticket, found)
    claim.finish(url)
    _n = i18n.plural_translator(language_of(request))
    message = _n("{count} file added.", "{count} files added.", len(stored))
    return flash.redirect(request, url, message)


def refused_on_ticket(
    request: Request,
    session: Session,
    viewer: BrowserSession,
    runtime: Runtime,
    ticket: Ticket,
    drafts: dict[str, Any],
    message: str,
) -> PageAnswer:
    """The ticket page again, the note or reply as typed and the reason next to it (422).
    Raise it: the request's transaction then rolls back."""
    from hubdesk.web.ui.ticket_page import ticket_view

    page = ticket_view(
        request, session, viewer, runtime, ticket, drafts=drafts, problem=message, status=422
    )
    return PageAnswer(page)
