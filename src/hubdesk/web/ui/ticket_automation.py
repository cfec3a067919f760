"""The ticket page's automation forms: snooze (the side panel) and split a received message
off into a new ticket (a button on the message in the timeline). Both call the services
the API calls (`hubdesk.automation`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.automation import snooze as snoozing
from hubdesk.automation import split as splitting
from hubdesk.db.types import utcnow
from hubdesk.errors import ValidationFailed
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.web.ui import flash, forms, i18n
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of

router = page_router()
OptionalField = Annotated[str | None, Form()]


@router.post("/tickets/{ticket_id}/snooze")
def snooze(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    until: OptionalField = None,
) -> Response:
    """Snooze until a local date and time (HUBDESK_TIMEZONE), as the page's input gives it."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    text = (until or "").strip()
    if not text:
        raise ValidationFailed("Snooze until: enter a date and time")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "Snooze until must be a date and time such as 2026-03-30 08:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=runtime.settings.tz)
    row = snoozing.snooze(session, viewer.principal, ticket, moment, now=utcnow())
    _ = i18n.translator(language_of(request))
    local = row.until.astimezone(runtime.settings.tz).strftime("%Y-%m-%d %H:%M")
    return flash.redirect(request, f"/tickets/{ticket.id}", _("Snoozed until {when}.", when=local))


@router.post("/tickets/{ticket_id}/unsnooze")
def unsnooze(request: Request, ticket_id: int, session: SessionDep, viewer: ViewerDep) -> Response:
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    snoozing.unsnooze(session, viewer.principal, ticket)
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, f"/tickets/{ticket.id}", _("The snooze has ended."))


@router.post("/tickets/{ticket_id}/split")
def split(
    request: Request,
    ticket_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    email_id: OptionalField = None,
    version: OptionalField = None,
) -> Response:
    """Split one received message off into a new ticket; show the new ticket."""
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    new = splitting.split_messages(
        session,
        viewer.principal,
        ticket,
        [forms.whole_number(email_id or "", "message")],
        tz=runtime.settings.tz,
        now=utcnow(),
        expected_version=forms.optional_whole_number(version, "version"),
    )
    _ = i18n.translator(language_of(request))
    message = _("The message was split off {source} into this ticket.", source=ticket.ticket_number)
    return flash.redirect(request, f"/tickets/{new.id}", message)
