"""`GET /tickets`: the ticket list (bulk actions: `ticket_bulk`; saved views: `saved_views`).

Filters (status, priority, customer, assignee, tag, team: "" all the viewer's teams' queues,
`none` no team, or a team's id), full-text search, sorting and pages are
the API list's (`queries.list_tickets`): the same allow-listed sort keys, the same scope.
Without a `status` parameter the list shows the tickets still being worked on. `view=<id>`
marks which saved view the query came from; `save_as` refills the "save as view" name after
a refused save, and `rename`/`rename_as` open a view's rename field with the name as typed
after a refused rename.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.customers import service as customers
from hubdesk.customers.models import Customer
from hubdesk.db.types import utcnow
from hubdesk.savedviews import service as saved_views
from hubdesk.sla import service as sla
from hubdesk.tickets import queries
from hubdesk.tickets.states import OPEN_STATES, PRIORITIES, STATUSES
from hubdesk.users import teams
from hubdesk.users.models import User, UserGroup
from hubdesk.users.permissions import Principal
from hubdesk.web.ui import forms, labels
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.saved_views import view_url
from hubdesk.web.ui.templating import render
from hubdesk.web.ui.ticket_page import active_users

router = page_router()
PAGE_SIZES: Final = (25, 50, 100)
SORTS: Final = (
    "-updated_at",
    "-created_at",
    "-priority",
    "-priority,created_at",
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
    team: str = ""
    """"": all the viewer's teams' queues; "none": tickets of no team; else a team's id."""

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
            team_id=None if self.team in ("", "none") else forms.optional_id(self.team, "team"),
            no_team=self.team == "none",
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
    runtime: RuntimeDep,
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
    team: Annotated[str, Query(max_length=12)] = "",
    view: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    save_as: Annotated[str, Query(max_length=200)] = "",
    rename: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    rename_as: Annotated[str, Query(max_length=200)] = "",
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
        team.strip(),
    )
    found = queries.list_tickets(
        session,
        viewer.principal,
        params.ticket_filter(viewer.user_id),
        limit=params.per,
        offset=(page - 1) * params.per,
        count_limit=runtime.settings.list_count_limit,
    )
    pages = max(1, -(-found.total // params.per))
    if found.total_is_lower_bound:  # more than `total`: at least this many pages
        pages = max(page + 1, -(-(found.total + 1) // params.per))
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
            "teams": visible_teams(session, viewer.principal),
            "all_teams": teams.sees_all_teams(viewer.principal),
            "customer_names": customer_names(session, found.items),
            "agent_names": user_names(session, found.items),
            "page_url": lambda n: params.url(page=n),
            "sla_of": sla_views(session, found.items),
            "views": saved_views.visible(session, viewer.principal),
            "view_url": view_url,
            "may_edit_view": lambda v: saved_views.may_edit(viewer.principal, v),
            "current_view": view,
            "save_as": save_as,
            "rename": rename,
            "rename_as": rename_as,
        },
    )


def visible_teams(session: Session, principal: Principal) -> dict[int, str]:
    """The teams the list's Team filter offers: every group to a viewer who sees all teams'
    queues, else the viewer's own teams (groups: `agents` is one too), by name."""
    names = sorted(teams.team_names(session).items(), key=lambda item: item[1].casefold())
    if teams.sees_all_teams(principal):
        return dict(names)
    mine = set(
        session.scalars(select(UserGroup.group_id).where(UserGroup.user_id == principal.user_id))
    )
    return {i: name for i, name in names if i in mine}


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
