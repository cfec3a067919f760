"""`/api/v1/tickets`: tickets, their comments and audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from hubdesk.audit import service as audit
from hubdesk.db.types import utcnow
from hubdesk.outbox.notify import notify_agent
from hubdesk.tickets import comments, queries, service
from hubdesk.tickets.schemas import (
    AuditOut,
    CommentCreate,
    CommentOut,
    MergeRequest,
    TicketCreate,
    TicketOut,
    TicketUpdate,
)
from hubdesk.tickets.visibility import get_visible_ticket, get_visible_ticket_by_number
from hubdesk.web.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.web.schemas import ListOf, PagingDep, page_of

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.get("", response_model=ListOf[TicketOut])
def list_tickets(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    status: Annotated[list[str] | None, Query()] = None,
    priority: Annotated[list[str] | None, Query()] = None,
    customer_id: int | None = None,
    assigned_to_user_id: int | None = None,
    unassigned: bool = False,
    tag: str | None = None,
    q: Annotated[str | None, Query(max_length=500)] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    sla_state: str | None = None,
    sla_due_before: datetime | None = None,
    sort: str = "-created_at",
) -> ListOf[TicketOut]:
    page = queries.list_tickets(
        session,
        principal,
        queries.TicketFilter(
            status=tuple(status or ()),
            priority=tuple(priority or ()),
            customer_id=customer_id,
            assigned_to_user_id=assigned_to_user_id,
            unassigned=unassigned,
            tag=tag,
            q=q,
            created_from=created_from,
            created_to=created_to,
            sla_state=sla_state,
            sla_due_before=sla_due_before,
            sort=sort,
        ),
        limit=paging.limit,
        offset=paging.offset,
    )
    return page_of(TicketOut, page)


@router.post("", response_model=TicketOut, status_code=201)
def create_ticket(
    body: TicketCreate, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> TicketOut:
    ticket = service.create_ticket(
        session,
        principal,
        service.NewTicket(
            subject=body.subject,
            description=body.description,
            status=body.status,
            priority=body.priority or runtime.settings.ticket_default_priority,
            customer_id=body.customer_id,
            contact_id=body.contact_id,
            assigned_to_user_id=body.assigned_to_user_id,
            tags=tuple(body.tags),
            custom_fields=body.custom_fields,
            source="api",
        ),
        tz=runtime.settings.tz,
    )
    return TicketOut.model_validate(ticket)


@router.get("/by-number/{ticket_number}", response_model=TicketOut)
def get_ticket_by_number(
    ticket_number: str, session: SessionDep, principal: PrincipalDep
) -> TicketOut:
    return TicketOut.model_validate(get_visible_ticket_by_number(session, principal, ticket_number))


@router.get("/{ticket_id}", response_model=TicketOut)
def get_ticket(ticket_id: int, session: SessionDep, principal: PrincipalDep) -> TicketOut:
    return TicketOut.model_validate(get_visible_ticket(session, principal, ticket_id))


@router.patch("/{ticket_id}", response_model=TicketOut)
def update_ticket(
    ticket_id: int,
    body: TicketUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> TicketOut:
    ticket = get_visible_ticket(session, principal, ticket_id)
    changes = {key: getattr(body, key) for key in body.model_fields_set}
    assignee_before = ticket.assigned_to_user_id
    service.update_ticket(session, principal, ticket, changes)
    if ticket.assigned_to_user_id not in (None, assignee_before, principal.user_id):
        notify_agent(session, runtime, ticket, event="assigned", now=utcnow())
    return TicketOut.model_validate(ticket)


@router.delete("/{ticket_id}", status_code=204)
def delete_ticket(ticket_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    ticket = get_visible_ticket(session, principal, ticket_id)
    service.delete_ticket(session, principal, ticket)
    return Response(status_code=204)


@router.post("/{ticket_id}/merge", response_model=TicketOut)
def merge_ticket(
    ticket_id: int, body: MergeRequest, session: SessionDep, principal: PrincipalDep
) -> TicketOut:
    """Merge this ticket into `target_id`; returns the target."""
    source = get_visible_ticket(session, principal, ticket_id)
    target = get_visible_ticket(session, principal, body.target_id)
    return TicketOut.model_validate(service.merge_ticket(session, principal, source, target))


@router.get("/{ticket_id}/comments", response_model=ListOf[CommentOut])
def list_comments(
    ticket_id: int, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[CommentOut]:
    ticket = get_visible_ticket(session, principal, ticket_id)
    page = comments.list_comments(session, ticket, limit=paging.limit, offset=paging.offset)
    return page_of(CommentOut, page)


@router.post("/{ticket_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(
    ticket_id: int, body: CommentCreate, session: SessionDep, principal: PrincipalDep
) -> CommentOut:
    ticket = get_visible_ticket(session, principal, ticket_id)
    comment = comments.add_comment(session, principal, ticket, body.body, internal=body.internal)
    return CommentOut.model_validate(comment)


@router.get("/{ticket_id}/audit", response_model=ListOf[AuditOut])
def ticket_audit(
    ticket_id: int, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[AuditOut]:
    ticket = get_visible_ticket(session, principal, ticket_id)
    page = audit.list_for_ticket(session, ticket.id, limit=paging.limit, offset=paging.offset)
    return page_of(AuditOut, page)
