"""`/api/v1/sla-policies`: SLA policies with their calendars and targets (`sla.manage`);
`/api/v1/tickets/{id}/sla-escalations`: the escalations fired on a ticket and what they did."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, page_of
from hubdesk.db.paging import paginate
from hubdesk.sla import service
from hubdesk.sla.models import SlaEscalation
from hubdesk.sla.schemas import EscalationOut, PolicyCreate, PolicyOut, PolicyUpdate
from hubdesk.tickets.visibility import get_visible_ticket

router = APIRouter(prefix="/sla-policies", tags=["sla"])
ticket_router = APIRouter(tags=["sla"])


@ticket_router.get("/tickets/{ticket_id}/sla-escalations", response_model=ListOf[EscalationOut])
def ticket_escalations(
    ticket_id: Id, session: SessionDep, principal: PrincipalDep, paging: PagingDep
) -> ListOf[EscalationOut]:
    """The warnings and breaches fired on a ticket, oldest first, with their actions' results."""
    ticket = get_visible_ticket(session, principal, ticket_id)
    statement = (
        select(SlaEscalation)
        .where(SlaEscalation.ticket_id == ticket.id)
        .order_by(SlaEscalation.fired_at, SlaEscalation.id)
    )
    page = paginate(session, statement, limit=paging.limit, offset=paging.offset)
    return page_of(EscalationOut, page)


@router.get("", response_model=ListOf[PolicyOut])
def list_policies(session: SessionDep, principal: PrincipalDep) -> ListOf[PolicyOut]:
    policies = service.list_policies(session, principal)
    items = [PolicyOut.model_validate(service.policy_json(p)) for p in policies]
    return ListOf[PolicyOut](items=items, total=len(items), limit=len(items), offset=0)


@router.post("", response_model=PolicyOut, status_code=201)
def create_policy(body: PolicyCreate, session: SessionDep, principal: PrincipalDep) -> PolicyOut:
    policy = service.create_policy(session, principal, body.model_dump())
    return PolicyOut.model_validate(service.policy_json(policy))


@router.get("/{policy_id}", response_model=PolicyOut)
def get_policy(policy_id: Id, session: SessionDep, principal: PrincipalDep) -> PolicyOut:
    return PolicyOut.model_validate(
        service.policy_json(service.get_policy(session, principal, policy_id))
    )


@router.patch("/{policy_id}", response_model=PolicyOut)
def update_policy(
    policy_id: Id, body: PolicyUpdate, session: SessionDep, principal: PrincipalDep
) -> PolicyOut:
    policy = service.get_policy(session, principal, policy_id)
    changes = body.model_dump(include=body.model_fields_set)
    return PolicyOut.model_validate(
        service.policy_json(service.update_policy(session, principal, policy, changes))
    )


@router.delete("/{policy_id}", status_code=204)
def delete_policy(policy_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_policy(session, principal, service.get_policy(session, principal, policy_id))
    return Response(status_code=204)
