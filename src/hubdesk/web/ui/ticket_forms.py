"""The forms of the ticket page: details, reply, public comment, internal note, worklog, merge.

Each post calls the same service as the API, in the request's one transaction, and answers
with a redirect back to the ticket and a one-line message (post/redirect/get). The reply
composer is `hubdesk.outbox.replies.send_reply` (a public comment and a queued mail to the
ticket's contact); its message says whether the mail was queued or held for a bouncing
address, and that it waits in the outbox when no SMTP server is configured. A ticket without
a contact gets a public comment only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import Response

from hubdesk.db.types import utcnow
from hubdesk.errors import NotFound, ValidationFailed
from hubdesk.outbox import replies
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets import comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.visibility import get_visible_ticket, get_visible_ticket_by_number
from hubdesk.web.deps import RuntimeDep, SessionDep
from hubdesk.web.ui import flash, forms, i18n, labels
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of
from hubdesk.worklogs import service as worklogs

router = page_router()
TextField = Annotated[str, Form()]
OptionalField = Annotated[str | None, Form()]
IdsField = Annotated[list[str] | None, Form()]


@router.post("/tickets/{ticket_id}/edit")
def edit_ticket(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    subject: OptionalField = None,
    status: OptionalField = None,
    priority: OptionalField = None,
    customer_id: OptionalField = None,
    contact_id: OptionalField = None,
    assigned_to_user_id: OptionalField = None,
    tags: OptionalField = None,
) -> Response:
    """Change the fields the form sent whose value differs (assigning alone needs only
    `tickets.assign`)."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    sent: dict[str, Any] = {}
    if subject is not None:
        sent["subject"] = subject
    if status is not None:
        sent["status"] = status
    if priority is not None:
        sent["priority"] = priority
    if customer_id is not None:
        sent["customer_id"] = forms.optional_id(customer_id, "customer")
    if contact_id is not None:
        sent["contact_id"] = forms.optional_id(contact_id, "contact")
    if assigned_to_user_id is not None:
        sent["assigned_to_user_id"] = forms.optional_id(assigned_to_user_id, "assignee")
    if tags is not None:
        sent["tags"] = forms.tag_list(tags)
    changes = {key: value for key, value in sent.items() if value != _current(ticket, key)}
    _ = i18n.translator(language_of(request))
    if not changes:
        return flash.redirect(request, _ticket_url(ticket), _("Nothing changed."))
    tickets.update_ticket(session, viewer.principal, ticket, changes)
    return flash.redirect(request, _ticket_url(ticket), _("Ticket saved."))


def _current(ticket: Ticket, key: str) -> Any:
    if key == "tags":
        return ticket.tags
    return getattr(ticket, key)


@router.post("/tickets/{ticket_id}/reply")
def reply(
    request: Request,
    ticket_id: int,
    body: TextField,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    cc: OptionalField = None,
    attachment_ids: IdsField = None,
    status: OptionalField = None,
) -> Response:
    """Answer the customer by mail (a public comment and an outgoing message)."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    _comment, row = replies.send_reply(
        session,
        runtime,
        viewer.principal,
        ticket,
        body=body,
        cc=forms.address_list(cc),
        attachment_ids=forms.id_list(attachment_ids, "attachment"),
        status=forms.optional_text(status),
        now=utcnow(),
        source="web",
    )
    message, kind = _sent_message(request, runtime, row)
    return flash.redirect(request, _ticket_url(ticket), message, kind=kind)


def _sent_message(request: Request, runtime: Runtime, row: OutboxMessage) -> tuple[str, flash.Kind]:
    """Whether the mail was queued or held, and that it waits when no SMTP server is set."""
    _ = i18n.translator(language_of(request))
    recipients = ", ".join(row.recipients)
    if row.status == "held":
        return _(labels.REPLY_SENT["held"], recipients=recipients), "error"
    key = "queued" if runtime.settings.smtp_host else "no_smtp"
    return _(labels.REPLY_SENT[key], recipients=recipients), "ok"


@router.post("/tickets/{ticket_id}/comment")
def public_comment(
    request: Request, ticket_id: int, body: TextField, session: SessionDep, viewer: ViewerDep
) -> Response:
    """A public comment without mail (a ticket with no contact to write to)."""
    return _comment(request, ticket_id, body, session, viewer, internal=False)


@router.post("/tickets/{ticket_id}/note")
def internal_note(
    request: Request, ticket_id: int, body: TextField, session: SessionDep, viewer: ViewerDep
) -> Response:
    return _comment(request, ticket_id, body, session, viewer, internal=True)


def _comment(
    request: Request,
    ticket_id: int,
    body: str,
    session: SessionDep,
    viewer: ViewerDep,
    *,
    internal: bool,
) -> Response:
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    comments.add_comment(session, viewer.principal, ticket, body, internal=internal, source="web")
    _ = i18n.translator(language_of(request))
    added = _("Internal note added.") if internal else _("Public comment added to the ticket.")
    return flash.redirect(request, _ticket_url(ticket), added)


@router.post("/tickets/{ticket_id}/worklog")
def add_worklog(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    minutes: TextField,
    billing: TextField = "none",
    work_date: OptionalField = None,
    description: TextField = "",
    billable: OptionalField = None,
    invoice_reference: OptionalField = None,
    prepaid_card_id: OptionalField = None,
) -> Response:
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    new = worklogs.NewWorklog(
        minutes=forms.whole_number(minutes, "minutes"),
        work_date=forms.optional_date(work_date, "date"),
        description=description,
        billable=forms.checked(billable),
        billing=billing,
        invoice_reference=invoice_reference if billing == "invoice" else None,
        prepaid_card_id=(
            forms.optional_id(prepaid_card_id, "prepaid card") if billing == "prepaid" else None
        ),
    )
    worklogs.create_worklog(session, viewer.principal, ticket, new, today=runtime.today())
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, _ticket_url(ticket), _("Time logged."))


@router.post("/tickets/{ticket_id}/merge")
def merge(
    request: Request, ticket_id: int, target: TextField, session: SessionDep, viewer: ViewerDep
) -> Response:
    """Merge this ticket into the one named by its number (`TKT-...`)."""
    source = get_visible_ticket(session, viewer.principal, ticket_id)
    number = target.strip().upper()
    try:
        into = get_visible_ticket_by_number(session, viewer.principal, number)
    except NotFound:
        raise ValidationFailed(f"there is no ticket {number}") from None
    tickets.merge_ticket(session, viewer.principal, source, into)
    _ = i18n.translator(language_of(request))
    message = _("{source} was merged into this ticket.", source=source.ticket_number)
    return flash.redirect(request, _ticket_url(into), message)


def _ticket_url(ticket: Ticket) -> str:
    return f"/tickets/{ticket.id}"
