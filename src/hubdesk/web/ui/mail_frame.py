"""Mail content that is not our markup: the sandboxed HTML frame, inline images, downloads.

`GET /tickets/{id}/emails/{email_id}/frame` serves one mail's HTML (sanitised again, images
decided by `hubdesk.web.ui.mailhtml`) as its own document with
`Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; sandbox`
(plus `http: https:` images when the agent asked for remote images). The page embeds it in an
`<iframe sandbox>`: no script runs in it and it has no origin of its own, so it can reach
neither the page nor the session.

Inline (`cid:`) images are fetched by that frame, whose requests carry no cookie (its origin
is opaque), so they are served from capability URLs: the attachment id with an expiry and an
HMAC under the secret key. Only raster image types are served this way.

`GET /tickets/{id}/emails/{email_id}/original` downloads the mail as received (for HTML past
the render budget and text shortened when stored).

Downloads go through `hubdesk.api.downloads.attachment_response` (`Content-Disposition:
attachment`, `nosniff`, `CSP: sandbox`); types a browser could run as script or style on this
origin are sent as `application/octet-stream`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Final

from fastapi import Request
from jinja2 import Environment
from sqlalchemy import select
from starlette.responses import HTMLResponse, Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.api.downloads import INLINE_IMAGE_TYPES, attachment_response
from hubdesk.errors import NotFound
from hubdesk.inbound import service as inbound
from hubdesk.tickets import attachments
from hubdesk.tickets.models import Attachment, EmailLog
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.web.ui import mailhtml
from hubdesk.web.ui.routing import ViewerDep, page_router, public_router
from hubdesk.web.ui.templating import language_of

router = page_router()
image_router = public_router()

IMAGE_URL_LIFETIME: Final = 3600
_FRAME_POLICY: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'{remote}; "
    "form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)


def frame_policy(remote_images: bool) -> str:
    return _FRAME_POLICY.format(remote=" http: https:" if remote_images else "")


@router.get("/tickets/{ticket_id}/emails/{email_id}/frame")
def mail_frame(
    request: Request,
    ticket_id: int,
    email_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    remote: bool = False,
) -> Response:
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    log = session.get(EmailLog, email_id)
    if log is None or log.ticket_id != ticket.id or not log.body_html:
        raise NotFound(f"email {email_id} has no HTML on ticket {ticket_id}")
    inline = session.scalars(
        select(Attachment).where(
            Attachment.email_log_id == log.id, Attachment.content_id.is_not(None)
        )
    )
    urls = {
        mailhtml.content_id_key(row.content_id or ""): image_url(runtime.secret_key, row.id)
        for row in inline
        if row.content_type in INLINE_IMAGE_TYPES
    }
    framed = mailhtml.render_mail_html(log.body_html, inline_images=urls, remote_images=remote)
    env: Environment = request.app.state.ui_templates
    body = env.get_template("mail_frame.html").render(html=framed.html, lang=language_of(request))
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": frame_policy(remote),
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "private, no-store",
        },
    )


def _signature(secret_key: str, attachment_id: int, expires: int) -> str:
    message = f"inline-image:{attachment_id}:{expires}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def image_url(secret_key: str, attachment_id: int, *, now: float | None = None) -> str:
    expires = int(now or time.time()) + IMAGE_URL_LIFETIME
    signature = _signature(secret_key, attachment_id, expires)
    return f"/mail-images/{attachment_id}?expires={expires}&sig={signature}"


@image_router.get("/mail-images/{attachment_id}")
def inline_image(
    attachment_id: int, expires: int, sig: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """An inline image of a mail, for the URL the frame was given (404 once it expired)."""
    expected = _signature(runtime.secret_key, attachment_id, expires)
    if expires < time.time() or not hmac.compare_digest(expected, sig):
        raise NotFound("this image link has expired")
    row = attachments.get_attachment(session, attachment_id)
    if row.content_type not in INLINE_IMAGE_TYPES:
        raise NotFound("not an inline image")
    data = attachments.stored_bytes(runtime.blobs, row)
    return attachment_response(data, filename=row.filename, content_type=row.content_type)


@router.get("/tickets/{ticket_id}/emails/{email_id}/original")
def original_mail(
    ticket_id: int, email_id: int, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    """The mail as it was received (`.eml`), always as a download: for mail too complex to
    display and for text shortened when it was stored. Kept until HUBDESK_RAW_RETENTION_DAYS."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    log = session.get(EmailLog, email_id)
    if log is None or log.ticket_id != ticket.id or log.inbound_id is None:
        raise NotFound(f"email {email_id} of ticket {ticket_id} has no original mail")
    data = inbound.raw_bytes(runtime.blobs, inbound.get(session, log.inbound_id))
    return attachment_response(
        data, filename=f"{ticket.ticket_number}-{log.id}.eml", content_type="message/rfc822"
    )


@router.get("/attachments/{attachment_id}")
def download(
    attachment_id: int, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    """A file of a ticket the viewer may see, always as a download."""
    row = attachments.get_attachment(session, attachment_id)
    get_visible_ticket(session, viewer.principal, row.ticket_id)
    data = attachments.stored_bytes(runtime.blobs, row)
    return attachment_response(data, filename=row.filename, content_type=row.content_type)
