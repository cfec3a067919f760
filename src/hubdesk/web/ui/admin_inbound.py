"""Admin: the inbound ledger (`/admin/inbound`): quarantined and failed mail, its raw bytes,
its classification history, re-processing and reclassifying.

Listing and reading need `inbound.view`; re-processing needs `inbound.reprocess` and runs
the message through `hubdesk.intake.pipeline.process` again, as the API's reprocess does.
That route holds no transaction of its own while the pipeline runs its own. A quarantined
mail shows its headers decoded (`hubdesk.inbound.quarantine`), and with `inbound.reprocess`
it can be dismissed (kept, hidden; "show dismissed" lists them, restore undoes it) or made
into a ticket by hand (the admin enters the sender when the mail had none). The raw message
is shown as escaped text (the first `RAW_PREVIEW_BYTES`) and offered as a download, never
rendered as mail. The detail shows every classification (rules, model, agents) and the
queue the mail waits in; a holder of `emails.classify` corrects the class through
`hubdesk.classifier.service.reclassify` (a training label; the mail is not processed again).
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Form, Request
from sqlalchemy import select
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.api.downloads import attachment_response
from hubdesk.api.limits import Id
from hubdesk.classifier import service as classifier
from hubdesk.classifier.models import Classification
from hubdesk.customers import service as customers
from hubdesk.errors import ValidationFailed
from hubdesk.inbound import quarantine
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import STATUSES
from hubdesk.intake import pipeline, prologue
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import EMAILS_CLASSIFY, INBOUND_VIEW
from hubdesk.web.ui import flash, forms, i18n, labels
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.workflows import catalog

router = page_router()
PAGE_SIZE: Final = 50
RAW_PREVIEW_BYTES: Final = 64 * 1024
PROBLEMS: Final = "problems"


@router.get("/admin/inbound")
def ledger(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    status: str = PROBLEMS,
    page: int = 1,
    dismissed: bool = False,
) -> Response:
    """Quarantined (not dismissed) and failed mail first (`status=problems`; `dismissed=1`
    adds the dismissed quarantined mail); any status on request."""
    principal = viewer.principal
    page = max(page, 1)
    if status == PROBLEMS:
        sections = [
            (
                "quarantined",
                quarantine.list_quarantined(
                    session, principal, dismissed=False, limit=PAGE_SIZE, offset=0
                ),
            ),
            (
                "failed",
                inbound.list_messages(
                    session, principal, status="failed", limit=PAGE_SIZE, offset=0
                ),
            ),
        ]
        if dismissed:
            hidden = quarantine.list_quarantined(
                session, principal, dismissed=True, limit=PAGE_SIZE, offset=0
            )
            sections.append(("dismissed", hidden))
    else:
        chosen = status or None
        sections = [
            (
                status,
                inbound.list_messages(
                    session,
                    principal,
                    status=chosen,
                    limit=PAGE_SIZE,
                    offset=(page - 1) * PAGE_SIZE,
                ),
            )
        ]
    return render(
        request,
        "admin_inbound.html",
        {
            "status": status,
            "statuses": STATUSES,
            "sections": sections,
            "page": page,
            "show_dismissed": dismissed,
        },
    )


@router.get("/admin/inbound/{inbound_id}")
def message_page(
    request: Request,
    inbound_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    sender: str = "",
) -> Response:
    viewer.principal.require(INBOUND_VIEW)
    row = inbound.get(session, inbound_id)
    headers: list[tuple[str, str]] = []
    try:
        raw = inbound.raw_bytes(runtime.blobs, row)
        preview: str | None = raw[:RAW_PREVIEW_BYTES].decode("utf-8", "replace")
        purged = None
        headers = quarantine.readable_headers(raw)
    except ValidationFailed as exc:
        preview, purged = None, str(exc)
    return render(
        request,
        "admin_inbound_message.html",
        {
            "row": row,
            "ticket": session.get(Ticket, row.ticket_id) if row.ticket_id else None,
            "preview": preview,
            "preview_cut": row.size > RAW_PREVIEW_BYTES,
            "purged": purged,
            "reprocessable": row.status in inbound.REPROCESSABLE,
            "classifications": session.scalars(
                select(Classification)
                .where(Classification.inbound_id == row.id)
                .order_by(Classification.created_at, Classification.id)
            ).all(),
            "known_classes": sorted(catalog.known_classes(session) - {"*"}),
            "headers": headers,
            "header_subject": next((v for n, v in headers if n.lower() == "subject"), ""),
            "dismissal": quarantine.dismissal(session, row),
            "customers": customers.list_customers(
                session, viewer.principal, q=None, limit=1000, offset=0
            ).items
            if row.status == "quarantined"
            else [],
            "sender": sender or row.from_address or quarantine.header_sender(headers),
        },
    )


@router.get("/admin/inbound/{inbound_id}/raw")
def raw_message(
    inbound_id: int, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    """The exact bytes received, as a download."""
    viewer.principal.require(INBOUND_VIEW)
    row = inbound.get(session, inbound_id)
    data = inbound.raw_bytes(runtime.blobs, row)
    return attachment_response(
        data, filename=f"inbound-{row.id}.eml", content_type="application/octet-stream"
    )


@router.post("/admin/inbound/{inbound_id}/reprocess")
def reprocess(
    request: Request, inbound_id: int, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    outcome = pipeline.reprocess(runtime, inbound_id, viewer.principal)
    _ = i18n.translator(language_of(request))
    message = _(
        "Processed again: {status}.", status=_(labels.OUTCOME.get(outcome.status, outcome.status))
    )
    if outcome.reason:
        message += f" {outcome.reason}"
    kind: flash.Kind = "error" if outcome.status in ("quarantined", "failed") else "ok"
    return flash.redirect(request, f"/admin/inbound/{inbound_id}", message, kind=kind)


@router.post("/admin/inbound/{inbound_id}/classification")
def reclassify(
    request: Request,
    inbound_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    label: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """An agent's class for the mail; it trains the next classifier model."""
    viewer.principal.require(EMAILS_CLASSIFY)
    row = inbound.get(session, inbound_id)
    entry = classifier.reclassify(session, viewer.principal, row, label, note.strip())
    _ = i18n.translator(language_of(request))
    message = _("The mail is now classified as {label}.", label=entry.label)
    return flash.redirect(request, f"/admin/inbound/{inbound_id}", message)


@router.post("/admin/inbound/{inbound_id}/dismiss")
def dismiss(
    request: Request,
    inbound_id: Id,
    session: SessionDep,
    viewer: ViewerDep,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Hide a quarantined mail from "Needs attention" (kept; restore undoes it)."""
    row = inbound.lock(session, inbound_id)
    done = quarantine.dismiss(session, viewer.principal, row, note)
    _ = i18n.translator(language_of(request))
    message = _("The mail was dismissed.") if done else _("The mail was already dismissed.")
    return flash.redirect(request, "/admin/inbound", message)


@router.post("/admin/inbound/{inbound_id}/restore")
def restore(request: Request, inbound_id: Id, session: SessionDep, viewer: ViewerDep) -> Response:
    row = inbound.lock(session, inbound_id)
    quarantine.restore(session, viewer.principal, row)
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, f"/admin/inbound/{inbound_id}", _("The mail is back under Needs attention.")
    )


@router.post("/admin/inbound/{inbound_id}/ticket")
def make_ticket(
    request: Request,
    inbound_id: Id,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    sender: Annotated[str, Form()] = "",
    customer: Annotated[str, Form()] = "",
) -> Response:
    """A ticket from the quarantined mail, by hand; a second click opens the same ticket."""
    _ = i18n.translator(language_of(request))
    customer_id = forms.optional_id(customer, "customer")
    try:
        made = quarantine.make_ticket(
            session,
            runtime,
            viewer.principal,
            inbound_id,
            sender=sender,
            customer_id=customer_id,
            team_id=prologue.inbound_team(session, inbound_id),
        )
    except ValidationFailed as exc:
        if str(exc).startswith("sender:"):
            message = _("The mail has no sender: enter the customer's e-mail address.")
        elif "e-mail address" in str(exc):
            message = _("Enter a valid e-mail address for the sender.")
        else:
            message = str(exc)
        back = f"/admin/inbound/{inbound_id}?" + urlencode({"sender": sender[:320]})
        return flash.redirect(request, back, message, kind="error")
    number = made.ticket.ticket_number
    if made.created:
        message = _("Ticket {number} was opened from the mail.", number=number)
    else:
        message = _("The mail is already ticket {number}.", number=number)
    return flash.redirect(request, f"/tickets/{made.ticket.id}", message)
