"""`/canned-responses`: an agent's personal canned responses and the shared ones.

Every agent may keep personal responses; holders of `canned.manage` also create and change
the shared ones. A refused form (an empty title, an unknown placeholder) comes back as typed
with the reason. `/tickets/{id}/canned/{response id}` answers the response's text filled in
for that ticket and the viewer (the reply box's "Insert" picker uses it; without JavaScript
the picker reloads the ticket page with the text already in the reply box).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import JSONResponse, Response

from hubdesk.access.deps import SessionDep
from hubdesk.canned import service as canned
from hubdesk.canned.placeholders import KNOWN
from hubdesk.errors import ValidationFailed
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.models import User
from hubdesk.users.permissions import CANNED_MANAGE
from hubdesk.web.ui import flash, forms, i18n
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render

router = page_router()
TextField = Annotated[str, Form()]
OptionalField = Annotated[str | None, Form()]
LIST_URL = "/canned-responses"


def _context(session: SessionDep, viewer: ViewerDep, **extra: Any) -> dict[str, Any]:
    rows = canned.list_responses(session, viewer.principal)
    return {
        "shared": [r for r in rows if r.owner_user_id is None],
        "personal": [r for r in rows if r.owner_user_id is not None],
        "placeholders": ["{{" + name + "}}" for name in KNOWN],
        "may_share": viewer.principal.can(CANNED_MANAGE),
        "new": {"title": "", "body": "", "shared": False},
        "problems": [],
        **extra,
    }


@router.get("/canned-responses")
def canned_list(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    return render(request, "canned.html", _context(session, viewer))


@router.post("/canned-responses")
def create(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    title: TextField = "",
    body: TextField = "",
    shared: OptionalField = None,
) -> Response:
    try:
        canned.create_response(
            session, viewer.principal, title=title, body=body, shared=forms.checked(shared)
        )
    except ValidationFailed as exc:
        new = {"title": title, "body": body, "shared": forms.checked(shared)}
        form_refused(
            request,
            "canned.html",
            _context(session, viewer, new=new),
            i18n.said(language_of(request), exc),
        )
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, LIST_URL, _("Canned response saved."))


@router.get("/canned-responses/{response_id}")
def edit_page(
    request: Request, response_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    row = canned.get_response(session, viewer.principal, response_id)
    return render(request, "canned_edit.html", _edit_context(row, row.title, row.body))


def _edit_context(row: Any, title: str, body: str) -> dict[str, Any]:
    return {
        "row": row,
        "title_value": title,
        "body_value": body,
        "placeholders": ["{{" + name + "}}" for name in KNOWN],
        "problems": [],
    }


@router.post("/canned-responses/{response_id}")
def update(
    request: Request,
    response_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    title: TextField = "",
    body: TextField = "",
) -> Response:
    row = canned.get_response(session, viewer.principal, response_id)
    try:
        canned.update_response(session, viewer.principal, row, title=title, body=body)
    except ValidationFailed as exc:
        form_refused(
            request,
            "canned_edit.html",
            _edit_context(row, title, body),
            i18n.said(language_of(request), exc),
        )
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, LIST_URL, _("Canned response saved."))


@router.post("/canned-responses/{response_id}/delete")
def delete(request: Request, response_id: int, session: SessionDep, viewer: ViewerDep) -> Response:
    row = canned.get_response(session, viewer.principal, response_id)
    canned.delete_response(session, viewer.principal, row)
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, LIST_URL, _("Canned response deleted."))


@router.get("/tickets/{ticket_id}/canned/{response_id}")
def filled(ticket_id: int, response_id: int, session: SessionDep, viewer: ViewerDep) -> Response:
    """The response's text for this ticket and the viewer, as JSON `{"text": ...}`."""
    return JSONResponse({"text": fill_for(session, viewer, ticket_id, response_id)})


def fill_for(session: SessionDep, viewer: ViewerDep, ticket_id: int, response_id: int) -> str:
    ticket = get_visible_ticket(session, viewer.principal, ticket_id)
    row = canned.get_response(session, viewer.principal, response_id)
    agent = session.get(User, viewer.principal.user_id) if viewer.principal.user_id else None
    return canned.fill_in(session, row, ticket, agent)
