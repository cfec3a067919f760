"""`GET /tickets`: the ticket list, and `POST /tickets/bulk`: assign or close many at once.

Filters (status, priority, customer, assignee, tag), full-text search, sorting and pages are
the API list's (`queries.list_tickets`): the same allow-listed sort keys, the same scope.
Without a `status` parameter the list shows the tickets still being worked on.

A bulk action changes each chosen ticket through `tickets.service.update_ticket` in its own
savepoint, so one ticket that refuses (say, already merged) does not undo the others; the
message names the ones that were left as they were.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.customers import service as customers
from hubdesk.customers.models import Customer
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.sla import service as sla
from hubdesk.tickets import queries
from hubdesk.tickets import service as tickets
from hubdesk.tickets.states import OPEN_STATES, PRIORITIES, STATUSES
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.models import User
from hubdesk.web.deps import SessionDep
from hubdesk.web.ui import flash, forms, i18n, labels
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.web.ui.ticket_page import active_users

router = page_router()
PAGE_SIZES: Final = (25, 50, 100)
SORTS: Final = (
    "-updated_at",
    "-created_at",
    "-priority",
    "sla_due",
    "ticket_number",
    "subject",
    "status",
)
ACTIVE: Final = "active"


@dataclass(frozen=True, slots=True)
class ListParams:
    """The list's query, as the page's links and forms repeat it."""

    status: str
    priority: str
    customer: str
    assignee: str
    tag: str
    q: str
    sort: str
    per: int
    sla: str = ""

    def url(self, **changes: Any) -> str:
        values = {**asdict(self), "page": 1, **changes}
        kept = {k: v for k, v in values.items() if v not in ("", None) or k == "status"}
        return "/tickets?" + urlencode(kept)

    def ticket_filter(self, viewer_id: int) -> queries.TicketFilter:
        if self.status == ACTIVE:
            status: tuple[str, ...] = tuple(sorted(OPEN_STATES))
        else:
            status = (self.status,) if self.status else ()
        return queries.TicketFilter(
            status=status,
            priority=(self.priority,) if self.priority else (),
            customer_id=forms.optional_id(self.customer, "customer"),
            assigned_to_user_id=(
                viewer_id if self.assignee == "me" else _assignee_id(self.assignee)
            ),
            unassigned=self.assignee == "none",
            tag=self.tag or None,
            q=self.q or None,
            sla_state=self.sla or None,
            snoozed=False if self.status == ACTIVE else None,
            sort=self.sort,
        )


def _assignee_id(value: str) -> int | None:
    return None if value in ("", "none") else forms.optional_id(value, "assignee")


@router.get("/tickets")
def ticket_list(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    status: str = ACTIVE,
    priority: str = "",
    customer: str = "",
    assignee: str = "",
    tag: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=500)] = "",
    sort: str = "-updated_at",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per: int = PAGE_SIZES[0],
    sla_state: Annotated[str, Query(alias="sla", max_length=16)] = "",
) -> Response:
    params = ListParams(
        status,
        priority,
        customer,
        assignee,
        tag.strip(),
        q.strip(),
        sort,
        per if per in PAGE_SIZES else PAGE_SIZES[0],
        sla_state if sla_state in labels.SLA_FILTER else "",
    )
    found = queries.list_tickets(
        session,
        viewer.principal,
        params.ticket_filter(viewer.user_id),
        limit=params.per,
        offset=(page - 1) * params.per,
    )
    pages = max(1, -(-found.total // params.per))
    return render(
        request,
        "tickets.html",
        {
            "found": found,
            "params": params,
            "page": page,
            "pages": pages,
            "statuses": STATUSES,
            "priorities": PRIORITIES,
            "sorts": SORTS if params.sort in SORTS else (params.sort, *SORTS),
            "page_sizes": PAGE_SIZES,
            "customers": customers.list_customers(
                session, viewer.principal, q=None, limit=1000, offset=0
            ).items,
            "agents": active_users(session),
            "customer_names": customer_names(session, found.items),
            "agent_names": user_names(session, found.items),
            "page_url": lambda n: params.url(page=n),
            "sla_of": sla_views(session, found.items),
        },
    )


def sla_views(session: Session, rows: Any) -> dict[int, tuple[Any, Any]]:
    """Each listed ticket's SLA view and earliest pending due time (clocks load with the
    tickets, so this asks the database nothing more)."""
    now = utcnow()
    return {t.id: sla.ticket_view(session, t, now) for t in rows}


def customer_names(session: Session, rows: Any) -> dict[int, str]:
    """The names of the customers of the listed (already visible) tickets, in one query."""
    ids = {t.customer_id for t in rows if t.customer_id is not None}
    if not ids:
        return {}
    found = session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    return {row.id: row.name for row in found}


def user_names(session: Session, rows: Any) -> dict[int, str]:
    """The names of the listed tickets' assignees, in one query."""
    ids = {t.assigned_to_user_id for t in rows if t.assigned_to_user_id is not None}
    if not ids:
        return {}
    return {
        row.id: row.name
        for row in session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    }


@router.post("/tickets/bulk")
def bulk(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    action: Annotated[str, Form()],
    ids: Annotated[list[int] | None, Form()] = None,
    assignee: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/tickets",
) -> Response:
    _ = i18n.translator(language_of(request))
    if not ids:
        raise ValidationFailed(_("Choose at least one ticket."))
    if action not in ("assign", "close"):
        raise ValidationFailed(f"unknown bulk action {action!r}")
    assigned = forms.optional_id(assignee, "assignee") if action == "assign" else None
    done, refused = 0, []
    for ticket_id in dict.fromkeys(ids):
        ticket = get_visible_ticket(session, viewer.principal, ticket_id)
        if action == "close" and ticket.status == "closed":
            continue
        try:
            with session.begin_nested():
                if action == "assign":
                    changes = {"assigned_to_user_id": assigned}
                    tickets.update_ticket(session, viewer.principal, ticket, changes)
                else:
                    tickets.close_ticket(session, viewer.principal, ticket)
            done += 1
        except (ValidationFailed, Conflict) as exc:
            refused.append(f"{ticket.ticket_number}: {exc}")
    _n = i18n.plural_translator(language_of(request))
    message = _n("{count} ticket updated.", "{count} tickets updated.", done)
    if refused:
        message += " " + _("Not changed:") + " " + "; ".join(refused)
    return flash.redirect(request, back, message, kind="error" if refused else "ok")
