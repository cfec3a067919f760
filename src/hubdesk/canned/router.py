"""`/api/v1/canned-responses`: shared and personal canned responses; `.../{id}/fill?ticket_id=`
gives one's text with the ticket's values in its placeholders."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.schemas import ListOf
from hubdesk.canned import service
from hubdesk.canned.models import CannedResponse
from hubdesk.canned.schemas import CannedCreate, CannedFilled, CannedOut, CannedUpdate
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.models import User

router = APIRouter(prefix="/canned-responses", tags=["canned responses"])


def _out(row: CannedResponse) -> CannedOut:
    return CannedOut(
        id=row.id,
        title=row.title,
        body=row.body,
        shared=row.owner_user_id is None,
        owner_user_id=row.owner_user_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.get("", response_model=ListOf[CannedOut])
def list_responses(session: SessionDep, principal: PrincipalDep) -> ListOf[CannedOut]:
    """The shared responses and the caller's personal ones."""
    items = [_out(r) for r in service.list_responses(session, principal)]
    return ListOf[CannedOut](items=items, total=len(items), limit=len(items), offset=0)


@router.post("", response_model=CannedOut, status_code=201)
def create_response(body: CannedCreate, session: SessionDep, principal: PrincipalDep) -> CannedOut:
    return _out(
        service.create_response(
            session, principal, title=body.title, body=body.body, shared=body.shared
        )
    )


@router.get("/{response_id}", response_model=CannedOut)
def get_response(response_id: Id, session: SessionDep, principal: PrincipalDep) -> CannedOut:
    return _out(service.get_response(session, principal, response_id))


@router.patch("/{response_id}", response_model=CannedOut)
def update_response(
    response_id: Id, body: CannedUpdate, session: SessionDep, principal: PrincipalDep
) -> CannedOut:
    row = service.get_response(session, principal, response_id)
    return _out(service.update_response(session, principal, row, title=body.title, body=body.body))


@router.delete("/{response_id}", status_code=204)
def delete_response(response_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_response(
        session, principal, service.get_response(session, principal, response_id)
    )
    return Response(status_code=204)


@router.get("/{response_id}/fill", response_model=CannedFilled)
def fill(
    response_id: Id, ticket_id: Id, session: SessionDep, principal: PrincipalDep
) -> CannedFilled:
    """The response's text for `ticket_id`, placeholders filled (the caller is the agent)."""
    row = service.get_response(session, principal, response_id)
    ticket = get_visible_ticket(session, principal, ticket_id)
    agent = session.get(User, principal.user_id) if principal.user_id is not None else None
    return CannedFilled(
        id=row.id, ticket_id=ticket.id, text=service.fill_in(session, row, ticket, agent)
    )
