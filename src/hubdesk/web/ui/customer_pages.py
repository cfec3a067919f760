"""`GET /customers` and `GET /customers/{id}`: customers, their contacts, tickets, time and
prepaid cards.

The customer's tickets come from `queries.list_tickets` and its worklog totals are summed
over the same visible tickets only; cards and balances need `prepaid.view`, as in the API.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Query, Request
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.customers import service as customers
from hubdesk.prepaid import service as prepaid
from hubdesk.tickets import queries
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.visibility import visible_tickets
from hubdesk.users.permissions import PREPAID_VIEW
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import render
from hubdesk.worklogs import service as worklogs

router = page_router()
PAGE_SIZE: Final = 50


@router.get("/customers")
def customer_list(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    q: Annotated[str, Query(max_length=300)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    found = customers.list_customers(
        session,
        viewer.principal,
        q=q.strip() or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "customers.html",
        {
            "found": found,
            "q": q,
            "page": page,
            "pages": max(1, -(-found.total // PAGE_SIZE)),
            "page_url": lambda n: "/customers?" + urlencode({"q": q, "page": n}),
        },
    )


@router.get("/customers/{customer_id}")
def customer_page(
    request: Request,
    customer_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
) -> Response:
    principal = viewer.principal
    customer = customers.get_customer(session, principal, customer_id)
    contacts = customers.list_contacts(
        session, principal, customer_id=customer.id, email=None, limit=500, offset=0
    )
    recent = queries.list_tickets(
        session,
        principal,
        queries.TicketFilter(customer_id=customer.id, sort="-updated_at"),
        limit=PAGE_SIZE,
        offset=0,
        count_limit=runtime.settings.list_count_limit,
    )
    theirs = visible_tickets(principal).where(Ticket.customer_id == customer.id)
    totals = worklogs.totals(session, Ticket.id.in_(theirs.with_only_columns(Ticket.id)))
    cards = []
    if principal.can(PREPAID_VIEW):
        today = runtime.today()
        page = prepaid.list_cards(
            session, principal, customer_id=customer.id, status=None, limit=200, offset=0
        )
        cards = [(card, prepaid.balance(card, today)) for card in page.items]
    return render(
        request,
        "customer.html",
        {
            "customer": customer,
            "contacts": contacts,
            "tickets": recent,
            "totals": totals,
            "cards": cards,
        },
    )
