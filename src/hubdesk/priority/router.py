"""`/api/v1/priority-keywords`: the words that set a new ticket's priority (`priority.manage`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.schemas import ListOf
from hubdesk.priority import service
from hubdesk.priority.schemas import KeywordIn, KeywordOut

router = APIRouter(prefix="/priority-keywords", tags=["priority keywords"])


@router.get("", response_model=ListOf[KeywordOut])
def list_keywords(session: SessionDep, principal: PrincipalDep) -> ListOf[KeywordOut]:
    items = [KeywordOut.model_validate(k) for k in service.list_keywords(session, principal)]
    return ListOf[KeywordOut](items=items, total=len(items), limit=len(items), offset=0)


@router.post("", response_model=KeywordOut, status_code=201)
def add_keyword(body: KeywordIn, session: SessionDep, principal: PrincipalDep) -> KeywordOut:
    row = service.add_keyword(session, principal, body.word, body.level, body.language, body.scope)
    return KeywordOut.model_validate(row)


@router.delete("/{keyword_id}", status_code=204)
def delete_keyword(keyword_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_keyword(session, principal, service.get_keyword(session, principal, keyword_id))
    return Response(status_code=204)
