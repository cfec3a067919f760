"""`/api/v1/triage`: held mail agents work from (the triage queue, and spam to release)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, Strict, page_of
from hubdesk.inbound import service as inbound
from hubdesk.intake import triage
from hubdesk.intake.http.email_to_ticket import outcome_body
from hubdesk.intake.http.ledger import InboundOut
from hubdesk.intake.types import Outcome
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import Principal

router = APIRouter(prefix="/triage", tags=["triage"])


class TriageDecision(Strict):
    action: Literal["create_ticket", "link", "dismiss"]
    ticket_number: str | None = None


@router.get("", response_model=ListOf[InboundOut])
def list_held(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    kind: Literal["triage", "spam"] = "triage",
) -> ListOf[InboundOut]:
    page = triage.held(session, principal, kind, limit=paging.limit, offset=paging.offset)
    return page_of(InboundOut, page)


@router.post("/{inbound_id}")
async def decide(
    inbound_id: Id, body: TriageDecision, principal: PrincipalDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Open a ticket from held mail (releasing spam through the pipeline), add it to a
    ticket, or dismiss it."""
    outcome = await run_in_threadpool(_decide, runtime, principal, inbound_id, body)
    return outcome_body(outcome)


def _decide(
    runtime: Runtime, principal: Principal, inbound_id: Id, body: TriageDecision
) -> Outcome:
    with runtime.db.transaction() as session:
        row = inbound.lock(session, inbound_id)
        return triage.decide(session, runtime, principal, row, body.action, body.ticket_number)
