"""`/api/v1/saved-views`: the caller's own views and the shared ones (`tickets.view`);
shared ones are created, changed and deleted with `views.share`."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.schemas import ListOf
from hubdesk.savedviews import service
from hubdesk.savedviews.schemas import SavedViewIn, SavedViewOut, SavedViewPatch

router = APIRouter(prefix="/saved-views", tags=["saved views"])


@router.get("", response_model=ListOf[SavedViewOut])
def list_views(session: SessionDep, principal: PrincipalDep) -> ListOf[SavedViewOut]:
    items = [SavedViewOut.model_validate(v) for v in service.visible(session, principal)]
    return ListOf[SavedViewOut](items=items, total=len(items), limit=len(items), offset=0)


@router.post("", response_model=SavedViewOut, status_code=201)
def create_view(body: SavedViewIn, session: SessionDep, principal: PrincipalDep) -> SavedViewOut:
    view = service.create(session, principal, body.name, body.query, body.shared)
    return SavedViewOut.model_validate(view)


@router.get("/{view_id}", response_model=SavedViewOut)
def get_view(view_id: Id, session: SessionDep, principal: PrincipalDep) -> SavedViewOut:
    return SavedViewOut.model_validate(service.get(session, principal, view_id))


@router.patch("/{view_id}", response_model=SavedViewOut)
def update_view(
    view_id: Id, body: SavedViewPatch, session: SessionDep, principal: PrincipalDep
) -> SavedViewOut:
    view = service.get(session, principal, view_id)
    changes = body.model_dump(include=body.model_fields_set)
    return SavedViewOut.model_validate(service.update(session, principal, view, changes))


@router.delete("/{view_id}", status_code=204)
def delete_view(view_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete(session, principal, service.get(session, principal, view_id))
    return Response(status_code=204)
