"""Worklogs under `/api/v1/tickets/{id}/worklogs`, and totals per ticket and per customer."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, page_of
from hubdesk.customers import service as customers
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.visibility import get_visible_ticket, visible_tickets
from hubdesk.worklogs import service
from hubdesk.worklogs.schemas import WorklogCreate, WorklogOut, WorklogTotals

router = APIRouter(tags=["worklogs"])


@router.get("/tickets/{ticket_id}/worklogs", response_model=ListOf[WorklogOut])
def list_worklogs(
    ticket_id: Id, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[WorklogOut]:
    ticket = get_visible_ticket(session, principal, ticket_id)
    page = service.list_worklogs(session, ticket, limit=paging.limit, offset=paging.offset)
    return page_of(WorklogOut, page)


@router.post("/tickets/{ticket_id}/worklogs", response_model=WorklogOut, status_code=201)
def create_worklog(
    ticket_id: Id,
    body: WorklogCreate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> WorklogOut:
    ticket = get_visible_ticket(session, principal, ticket_id)
    worklog = service.create_worklog(
        session,
        principal,
        ticket,
        service.NewWorklog(**body.model_dump()),
        today=runtime.today(),
    )
    return WorklogOut.model_validate(worklog)


@router.delete("/tickets/{ticket_id}/worklogs/{worklog_id}", status_code=204)
def delete_worklog(
    ticket_id: Id,
    worklog_id: Id,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> Response:
    ticket = get_visible_ticket(session, principal, ticket_id)
    worklog = service.get_worklog(session, ticket, worklog_id)
    service.delete_worklog(session, principal, worklog, today=runtime.today())
    return Response(status_code=204)


@router.get("/tickets/{ticket_id}/worklogs/totals", response_model=WorklogTotals)
def ticket_totals(ticket_id: Id, session: SessionDep, principal: PrincipalDep) -> WorklogTotals:
    ticket = get_visible_ticket(session, principal, ticket_id)
    return WorklogTotals.model_validate(service.totals(session, Ticket.id == ticket.id))


@router.get("/customers/{customer_id}/worklogs/totals", response_model=WorklogTotals)
def customer_totals(customer_id: Id, session: SessionDep, principal: PrincipalDep) -> WorklogTotals:
    customer = customers.get_customer(session, principal, customer_id)
    visible_ids = visible_tickets(principal).with_only_columns(Ticket.id)
    return WorklogTotals.model_validate(
        service.totals(session, Ticket.customer_id == customer.id, Ticket.id.in_(visible_ids))
    )
