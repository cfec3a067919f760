"""`/api/v1/mailboxes`: create, list, read, change and remove mailboxes (`mailboxes.manage`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf
from hubdesk.mailboxes import service
from hubdesk.mailboxes.schemas import MailboxCreate, MailboxOut, MailboxUpdate

router = APIRouter(tags=["mailboxes"])


@router.get("/mailboxes", response_model=ListOf[MailboxOut])
def list_mailboxes(
    session: SessionDep, principal: PrincipalDep, paging: PagingDep, runtime: RuntimeDep
) -> ListOf[MailboxOut]:
    page = service.list_mailboxes(session, principal, limit=paging.limit, offset=paging.offset)
    return ListOf[MailboxOut](
        items=[MailboxOut.of(row, runtime.settings) for row in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/mailboxes", response_model=MailboxOut, status_code=201)
def create_mailbox(
    body: MailboxCreate, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> MailboxOut:
    mailbox = service.create_mailbox(session, principal, **body.model_dump())
    return MailboxOut.of(mailbox, runtime.settings)


@router.get("/mailboxes/{mailbox_id}", response_model=MailboxOut)
def get_mailbox(
    mailbox_id: Id, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> MailboxOut:
    return MailboxOut.of(service.get_mailbox(session, principal, mailbox_id), runtime.settings)


@router.patch("/mailboxes/{mailbox_id}", response_model=MailboxOut)
def update_mailbox(
    mailbox_id: Id,
    body: MailboxUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> MailboxOut:
    mailbox = service.get_mailbox(session, principal, mailbox_id)
    changes = {key: getattr(body, key) for key in body.model_fields_set}
    updated = service.update_mailbox(session, principal, mailbox, changes)
    return MailboxOut.of(updated, runtime.settings)


@router.delete("/mailboxes/{mailbox_id}", status_code=204)
def delete_mailbox(mailbox_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_mailbox(session, principal, service.get_mailbox(session, principal, mailbox_id))
    return Response(status_code=204)
