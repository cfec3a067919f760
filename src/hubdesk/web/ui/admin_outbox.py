"""Admin: outgoing mail (`/admin/outbox`) and the mail templates (`/admin/templates`).

The outbox, its retries and the bouncing addresses need `replies.send`, as the API's
`/outbox` and `/address-flags` do; they call `hubdesk.outbox.service` (a failed or held
message is queued again; clearing an address releases the mail held only for it). The
auto-reply templates, in Danish and English, need `mailboxes.manage` and are saved through
`hubdesk.outbox.autoreply.save_template`, which allows no placeholder but `{ticket_number}`;
a refused template comes back as entered with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.db.types import utcnow
from hubdesk.errors import ValidationFailed
from hubdesk.outbox import autoreply
from hubdesk.outbox import service as outbox
from hubdesk.outbox.models import OUTBOX_STATUSES
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import MAILBOXES_MANAGE
from hubdesk.web.ui import flash, i18n, labels
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render

router = page_router()
PAGE_SIZE: Final = 50
MAX_FLAGS: Final = 500
TextField = Annotated[str, Form()]


@router.get("/admin/outbox")
def outbox_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    status: str = "",
    page: int = 1,
) -> Response:
    """Outgoing mail, newest first (any status, or one), and the addresses that bounce."""
    principal = viewer.principal
    page = max(page, 1)
    found = outbox.list_messages(
        session,
        principal,
        status=status or None,
        ticket_id=None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    ticket_ids = {row.ticket_id for row in found.items if row.ticket_id is not None}
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
    return render(
        request,
        "admin_outbox.html",
        {
            "status": status,
            "statuses": OUTBOX_STATUSES,
            "found": found,
            "tickets": tickets,
            "flags": outbox.bouncing_addresses(session, principal, limit=MAX_FLAGS, offset=0),
            "smtp_configured": bool(runtime.settings.smtp_host),
            "page": page,
            "pages": max(1, -(-found.total // PAGE_SIZE)),
            "page_url": lambda n: "/admin/outbox?" + urlencode({"status": status, "page": n}),
        },
    )


@router.post("/admin/outbox/{outbox_id}/retry")
def retry(
    request: Request,
    outbox_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    back: TextField = "/admin/outbox",
) -> Response:
    """Queue a failed or held message again."""
    row = outbox.get_message(session, viewer.principal, outbox_id)
    outbox.retry(session, viewer.principal, row, utcnow())
    _ = i18n.translator(language_of(request))
    message = _("The mail to {recipients} is queued again.", recipients=", ".join(row.recipients))
    return flash.redirect(request, flash.safe_local_path(back, "/admin/outbox"), message)


@router.post("/admin/outbox/flags/clear")
def clear_flag(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    email: TextField = "",
    back: TextField = "/admin/outbox",
) -> Response:
    """The address works again; the mail held only for it goes out."""
    released = outbox.clear_flag(session, viewer.principal, email, utcnow())
    _n = i18n.plural_translator(language_of(request))
    message = _n(
        "{email} is no longer flagged; {count} held message was released.",
        "{email} is no longer flagged; {count} held messages were released.",
        released,
        email=email.strip().lower(),
    )
    return flash.redirect(request, flash.safe_local_path(back, "/admin/outbox"), message)


def templates_context(session: Session, viewer: ViewerDep) -> dict[str, Any]:
    """The auto-reply in each language, as stored (a form per language)."""
    stored = {(t.key, t.language): t for t in autoreply.list_templates(session, viewer.principal)}
    forms: dict[str, dict[str, Any]] = {}
    for language in autoreply.TEMPLATE_LANGUAGES:
        row = stored.get((autoreply.TEMPLATE_KEY, language))
        forms[language] = {
            "subject": row.subject if row is not None else "",
            "body": row.body if row is not None else "",
            "row": row,
            "problems": [],
        }
    return {"key": autoreply.TEMPLATE_KEY, "forms": forms, "problems": []}


@router.get("/admin/templates")
def templates_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    viewer.principal.require(MAILBOXES_MANAGE)
    return render(request, "admin_templates.html", templates_context(session, viewer))


@router.post("/admin/templates/{template_key}/{language}")
def save_template(
    request: Request,
    template_key: str,
    language: str,
    session: SessionDep,
    viewer: ViewerDep,
    subject: TextField = "",
    body: TextField = "",
) -> Response:
    """Save one language of a template; a refused one is shown again as entered."""
    try:
        autoreply.save_template(
            session, viewer.principal, template_key, language, subject=subject, body=body
        )
    except ValidationFailed as exc:
        context = templates_context(session, viewer)
        context["forms"][language].update(
            subject=subject, body=body, problems=[i18n.said(language_of(request), exc)]
        )
        form_refused(request, "admin_templates.html", context, i18n.said(language_of(request), exc))
    _ = i18n.translator(language_of(request))
    name = _(labels.LANGUAGE.get(language, language))
    return flash.redirect(
        request, "/admin/templates", _("Template saved ({language}).", language=name)
    )
