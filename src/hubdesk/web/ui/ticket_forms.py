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

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.access.sessions import BrowserSession
from hubdesk.customers.models import Contact, Customer
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hubdesk.mail.compose import UnsafeAddress, plain_address
from hubdesk.outbox import mentions, replies
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets import attachments, comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.visibility import get_visible_ticket, get_visible_ticket_by_number
from hubdesk.users.models import Group, User
from hubdesk.web.ui import flash, forms, i18n, labels, once, ticket_edits, ticket_files, ticket_page
from hubdesk.web.ui.routing import PageAnswer, ViewerDep, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.worklogs import service as worklogs

router = page_router()
TextField = Annotated[str, Form()]
OptionalField = Annotated[str | None, Form()]
IdsField = Annotated[list[str] | None, Form()]


async def posted_form(request: Request) -> dict[str, str]:
    """The form's text fields exactly as posted: an empty value stays `""` (FastAPI's `Form()`
    turns it into None, which cannot be told apart from a field that was not sent)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


PostedForm = Annotated[dict[str, str], Depends(posted_form)]


@router.post("/tickets/{ticket_id}/edit")
def edit_ticket(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    form: PostedForm,
) -> Response:
    """Write the fields the agent changed on the page (assigning alone needs only
    `tickets.assign`). A page older than the ticket gets the conflict page instead."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    now = ticket_edits.current(ticket)
    version_read = ticket_edits.read_version(form)
    yours = ticket_edits.edited(form, now)
    if version_read is not None and version_read != ticket.version and yours:
        found = ticket_edits.conflict(form, now, version_read, ticket.version)
        raise PageAnswer(_conflict_page(request, session, ticket, found, now))
    changes = {key: value for key, value in yours.items() if value != now[key]}
    _ = i18n.translator(language_of(request))
    if not changes:
        return flash.redirect(request, _ticket_url(ticket), _("Nothing changed."))
    tickets.update_ticket(
        session,
        viewer.principal,
        ticket,
        changes,
        expected_version=version_read,
        runtime=runtime,
    )
    return flash.redirect(request, _ticket_url(ticket), _("Ticket saved."))


def _conflict_page(
    request: Request,
    session: Session,
    ticket: Ticket,
    found: ticket_edits.Conflict,
    now: dict[str, Any],
) -> Response:
    """409: what the page showed, what the ticket holds now and what the agent wanted, field
    by field, with a form that re-applies the agent's edit to the ticket as it is now."""
    _ = i18n.translator(language_of(request))

    def shown(name: str, value: Any) -> str:
        return _display(session, _, name, value)

    rows = [
        {
            "label": _(labels.FIELD[row.field]),
            "shown": shown(row.field, row.shown),
            "now": shown(row.field, row.now),
            "yours": shown(row.field, row.yours) if row.edited_by_you else "",
            "theirs_changed": row.theirs_changed,
            "edited_by_you": row.edited_by_you,
        }
        for row in found.fields
    ]
    reapply = {
        name: ticket_edits.shown_value(name, value)
        for name, value in found.reapply_values(now).items()
    }
    context = {
        "ticket": ticket,
        "rows": rows,
        "reapply": {name: reapply[name] for name in found.yours},
        "was": {name: ticket_edits.shown_value(name, value) for name, value in now.items()},
        "version_now": found.version_now,
    }
    return render(request, "ticket_conflict.html", context, status=409)


def _display(session: Session, _: i18n.Translate, name: str, value: Any) -> str:
    """A field's value as a person reads it (names for ids, labels for codes)."""
    if value is None or value == []:
        return "–"
    if name == "status":
        return _(labels.STATUS.get(value, value))
    if name == "priority":
        return _(labels.PRIORITY.get(value, value))
    if name == "tags":
        return ", ".join(value)
    model: Any = {
        "customer_id": Customer,
        "contact_id": Contact,
        "assigned_to_user_id": User,
        "team_id": Group,
    }.get(name)
    if model is not None:
        row = session.get(model, value)
        if row is None:
            return f"#{value}"
        if isinstance(row, Contact):
            return f"{row.name} <{row.email}>" if row.name else row.email
        return str(row.name)
    return str(value)


@router.post("/tickets/{ticket_id}/reply")
def reply(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    files: ticket_files.FilesField,
    body: TextField = "",
    cc: OptionalField = None,
    attachment_ids: IdsField = None,
    status: OptionalField = None,
    form_token: OptionalField = None,
    version: OptionalField = None,
    shown_status: OptionalField = None,
) -> Response:
    """Answer the customer by mail (a public comment and an outgoing message), with the
    ticket's files ticked and files uploaded with it (stored on the ticket and the reply).
    The same form sent twice (a double click) sends one mail. A refused reply (see
    `_refused`) sends nothing and comes back with everything as typed."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    claim = once.claim(session, viewer.user_id, form_token)
    if claim.repeat is not None:
        return _already_sent(request, claim.repeat)
    draft = {
        "reply": body,
        "cc": cc or "",
        "attachment_ids": [str(v) for v in attachment_ids or []],
        "status": status or "",
    }
    try:
        with session.begin_nested():
            _check_status_unchanged(request, ticket, version, shown_status, status)
            copies = _checked_cc(request, cc)
            uploads = ticket_files.chosen(files)
            stored = ticket_files.store(session, viewer.principal, runtime, ticket, uploads)
            ticked = forms.id_list(attachment_ids, "attachment")
            comment, row = replies.send_reply(
                session,
                runtime,
                viewer.principal,
                ticket,
                body=body,
                cc=copies,
                attachment_ids=[*ticked, *(a.id for a in stored)],
                status=forms.optional_text(status),
                now=utcnow(),
                source="web",
            )
            attachments.attach_to_comment(session, stored, comment)
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        dropped = bool(ticket_files.chosen_quietly(files))
        raise _refused(request, session, viewer, runtime, ticket, draft, exc, dropped) from exc
    claim.finish(_ticket_url(ticket))
    message, kind = _sent_message(request, runtime, row)
    return flash.redirect(request, _ticket_url(ticket), message, kind=kind)


def _check_status_unchanged(
    request: Request,
    ticket: Ticket,
    version: str | None,
    shown_status: str | None,
    status: str | None,
) -> None:
    """A reply that also sets the status, from a page older than the ticket whose status
    someone changed meanwhile, is refused: the agent chose the new status against a status
    that no longer holds. Other changes since do not stop a reply (it overwrites nothing)."""
    read = forms.optional_whole_number(version, "version")
    if read is None or read == ticket.version or not status or not shown_status:
        return
    if shown_status != ticket.status:
        _ = i18n.translator(language_of(request))
        raise Conflict(
            _(
                labels.REPLY_REFUSED["status_changed"],
                status=_(labels.STATUS.get(ticket.status, ticket.status)),
            )
        )


def _checked_cc(request: Request, cc: str | None) -> list[str]:
    """The Cc addresses, each checked as the outbox will check it, so that a bad one is
    named in the reader's language (the outbox's own sentence is English)."""
    addresses = forms.address_list(cc)
    for address in addresses:
        try:
            plain_address(address)
        except UnsafeAddress:
            _ = i18n.translator(language_of(request))
            raise ValidationFailed(_(labels.REPLY_REFUSED["cc"], address=address)) from None
    return addresses


def _refused(
    request: Request,
    session: Session,
    viewer: BrowserSession,
    runtime: Runtime,
    ticket: Ticket,
    draft: dict[str, Any],
    exc: Exception,
    files_dropped: bool,
) -> PageAnswer:
    """The ticket page again with the reply (or public comment) as typed, its Cc, ticked
    files and status, and what to fix: 422 for input the services refused, 409 for a
    conflict with the ticket as it is now, 403 for a missing permission. Files chosen for
    upload cannot be put back into a file input (browsers forbid it): the message says to
    choose them again. Raised, so the request's transaction rolls back."""
    _ = i18n.translator(language_of(request))
    if isinstance(exc, PermissionDenied):
        problem = _(
            "You may not do this (permission {code}); nothing was sent.", code=exc.permission
        )
        code = 403
    elif isinstance(exc, Conflict):
        problem, code = str(exc), 409
    else:
        problem, code = str(exc), 422
    if files_dropped:
        problem += " " + _(labels.REPLY_REFUSED["files_dropped"])
    page = ticket_page.ticket_view(
        request, session, viewer, runtime, ticket, drafts=draft, problem=problem, status=code
    )
    return PageAnswer(page)


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
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    body: TextField = "",
) -> Response:
    """A public comment without mail (a ticket with no contact to write to); refused, it
    comes back as typed, as a reply does."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    try:
        with session.begin_nested():
            comments.add_comment(
                session, viewer.principal, ticket, body, internal=False, source="web"
            )
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        draft = {"reply": body}
        raise _refused(request, session, viewer, runtime, ticket, draft, exc, False) from exc
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, _ticket_url(ticket), _("Public comment added to the ticket."))


@router.post("/tickets/{ticket_id}/note")
def internal_note(
    request: Request,
    ticket_id: int,
    body: TextField,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    files: ticket_files.FilesField,
    form_token: OptionalField = None,
) -> Response:
    """An internal note, with any files uploaded with it (stored on the ticket and the note);
    the agents it @mentions are notified (`hubdesk.outbox.mentions`)."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    claim = once.claim(session, viewer.user_id, form_token)
    if claim.repeat is not None:
        return _already_sent(request, claim.repeat)
    try:
        with session.begin_nested():
            uploads = ticket_files.chosen(files)
            note = comments.add_comment(
                session, viewer.principal, ticket, body, internal=True, source="web"
            )
            ticket_files.store(session, viewer.principal, runtime, ticket, uploads, comment=note)
    except ValidationFailed as exc:
        raise ticket_files.refused_on_ticket(
            request, session, viewer, runtime, ticket, {"note": body}, str(exc)
        ) from exc
    mentions.notify_mentions(session, runtime, ticket, note, utcnow())
    claim.finish(_ticket_url(ticket))
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, _ticket_url(ticket), _("Internal note added."))


def _already_sent(request: Request, url: str) -> Response:
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, url, _("This form was sent already."))


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
    request: Request,
    ticket_id: int,
    target: TextField,
    session: SessionDep,
    viewer: ViewerDep,
    version: OptionalField = None,
) -> Response:
    """Merge this ticket into the one named by its number (`TKT-...`); a page older than the
    ticket (its `version`) goes back with the reason and merges nothing."""
    source = get_visible_ticket(session, viewer.principal, ticket_id)
    number = target.strip().upper()
    try:
        into = get_visible_ticket_by_number(session, viewer.principal, number)
    except NotFound:
        raise ValidationFailed(f"there is no ticket {number}") from None
    tickets.merge_ticket(
        session,
        viewer.principal,
        source,
        into,
        expected_version=forms.optional_whole_number(version, "version"),
    )
    _ = i18n.translator(language_of(request))
    message = _("{source} was merged into this ticket.", source=source.ticket_number)
    return flash.redirect(request, _ticket_url(into), message)


def _ticket_url(ticket: Ticket) -> str:
    return f"/tickets/{ticket.id}"
