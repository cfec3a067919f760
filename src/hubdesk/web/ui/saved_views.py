"""`POST /tickets/views` (save the list's current filter and sort as a view),
`POST /tickets/views/{id}/rename` and `POST /tickets/views/{id}/delete`, through
`hubdesk.savedviews.service` as the API does.

A refused save or rename goes back to the list with the message (a refused save with the name
as typed in its field, a refused rename with the name as typed in the rename field, which is
then open); renaming or deleting a view that is already gone (a stale page, a second click) is
the 404 page, like every id.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Request
from starlette.responses import Response

from hubdesk.access.deps import SessionDep
from hubdesk.api.limits import Id
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.savedviews import service
from hubdesk.savedviews.models import SavedView
from hubdesk.web.ui import flash, forms, i18n
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of
from hubdesk.web.ui.ticket_forms import PostedForm

router = page_router()
TextField = Annotated[str, Form()]


def view_url(view: SavedView) -> str:
    """The list showing `view` (its query, and which view it is)."""
    return "/tickets?" + urlencode({**view.query, "view": view.id})


@router.post("/tickets/views")
def save_view(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    form: PostedForm,
    name: TextField = "",
    shared: TextField = "",
) -> Response:
    _ = i18n.translator(language_of(request))
    query: dict[str, str] = {key: form.get(key, "") for key in service.FILTER_KEYS if key in form}
    back_query = {k: v for k, v in query.items() if v != "" or k == "status"}
    try:
        view = service.create(session, viewer.principal, name, query, forms.checked(shared))
    except (ValidationFailed, Conflict) as exc:
        message = _refusal(_, name, exc)
        back = "/tickets?" + urlencode({**back_query, "save_as": name[:200]})
        return flash.redirect(request, back, message, kind="error")
    return flash.redirect(request, view_url(view), _("View {name} saved.", name=view.name))


@router.post("/tickets/views/{view_id}/rename")
def rename_view(
    request: Request, view_id: Id, session: SessionDep, viewer: ViewerDep, name: TextField = ""
) -> Response:
    _ = i18n.translator(language_of(request))
    view = service.get(session, viewer.principal, view_id)
    old = view.name
    if " ".join(name.split()) == old and service.may_edit(viewer.principal, view):
        return flash.redirect(request, view_url(view), _("Nothing changed."))
    try:
        with session.begin_nested():
            service.update(session, viewer.principal, view, {"name": name})
    except (ValidationFailed, Conflict) as exc:
        message = _refusal(_, name, exc)
        back = "/tickets?" + urlencode({"rename": view_id, "rename_as": name[:200]})
        return flash.redirect(request, back, message, kind="error")
    message = _("View {old} renamed to {name}.", old=old, name=view.name)
    return flash.redirect(request, view_url(view), message)


@router.post("/tickets/views/{view_id}/delete")
def delete_view(
    request: Request, view_id: Id, session: SessionDep, viewer: ViewerDep, back: TextField = ""
) -> Response:
    _ = i18n.translator(language_of(request))
    target = flash.safe_local_path(back, "/tickets")
    view = service.get(session, viewer.principal, view_id)
    service.delete(session, viewer.principal, view)
    return flash.redirect(request, target, _("View {name} deleted.", name=view.name))


def _refusal(_: i18n.Translate, name: str, exc: ValidationFailed | Conflict) -> str:
    """Why a view's name was refused, in the viewer's language."""
    if not name.strip():
        return _("Give the view a name.")
    if isinstance(exc, Conflict):
        return _("You already have a view called {name}.", name=name.strip())
    if len(" ".join(name.split())) > service.MAX_NAME:
        return _("A view's name has at most {count} characters.", count=service.MAX_NAME)
    return str(exc)
