"""`GET /`: the agent's start page.

My open tickets, open tickets nobody has (by priority, then the oldest first), tickets
waiting for the customer, open tickets by priority, and the newest mail. Every list is a
`queries.list_tickets` call, so it starts from `visible_tickets` like the API's list; the
newest mail is read through the same scope.

Mail waiting in triage and held as spam is counted (`hubdesk.intake.triage.held`) with a link
to `/triage`; the newest mails held as spam are listed, each with a one-click release (a POST
to `/triage/{id}`, as the triage page's "Release and open a ticket", `dashboard_spam.html`);
quarantined mail nobody has dismissed or made a ticket of is counted for holders of
`inbound.view` (`dashboard_quarantine.html`). Admins also see what `GET /api/v1/health`
would flag for them: workflows that keep failing (`engine.alerts`), mailboxes in the error
state, and mailboxes not polled successfully for HUBDESK_MAILBOX_STALE_MINUTES
(`mailbox_status.stale_mailboxes`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.channels.imap import status as mailbox_status
from hubdesk.db.paging import Total, count_rows
from hubdesk.db.types import utcnow
from hubdesk.inbound import quarantine
from hubdesk.intake import triage
from hubdesk.mailboxes import service as mailboxes
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from hubdesk.tickets import queries
from hubdesk.tickets.models import EmailLog, Ticket
from hubdesk.tickets.states import OPEN_STATES, PRIORITIES
from hubdesk.tickets.visibility import visible_tickets
from hubdesk.users import teams
from hubdesk.users.permissions import (
    INBOUND_VIEW,
    MAILBOXES_MANAGE,
    WORKFLOWS_MANAGE,
    Principal,
)
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import render
from hubdesk.workflows import engine

router = page_router()
SHOWN: Final = 8
SPAM_SHOWN: Final = 5
UNASSIGNED_SORT: Final = "-priority,created_at"
ACTIVE: Final = tuple(sorted(OPEN_STATES))
FAR: Final = datetime(9999, 1, 1, tzinfo=UTC)
"""A bound every due time is before: "has a pending due time"."""


@router.get("/")
def dashboard(
    request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    principal = viewer.principal

    bound = runtime.settings.list_count_limit or None  # "10000+" past it (db/paging.py)

    def tickets(sort: str = "-updated_at", **filters: Any) -> Any:
        flt = queries.TicketFilter(include_merged=False, sort=sort, **filters)
        return queries.list_tickets(
            session, principal, flt, limit=SHOWN, offset=0, count_limit=bound
        )

    counted = active_by_priority(session, principal, bound)
    by_priority = [(name, counted.get(name, Total(0))) for name in reversed(PRIORITIES)]
    return render(
        request,
        "dashboard.html",
        {
            "mine": tickets(status=ACTIVE, assigned_to_user_id=viewer.user_id),
            # Unassigned: the most urgent first, the one waiting longest first within a level.
            "unassigned": tickets(UNASSIGNED_SORT, status=ACTIVE, unassigned=True),
            "waiting": tickets(status=("waiting_customer",)),
            "by_priority": by_priority,
            # SLA: counts of breached and nearly due open tickets, and the soonest due.
            "sla_breached": tickets(status=ACTIVE, sla_state="breached"),
            "sla_warning": tickets(status=ACTIVE, sla_state="warning"),
            "sla_soonest": queries.list_tickets(
                session,
                principal,
                queries.TicketFilter(
                    status=ACTIVE, include_merged=False, sla_due_before=FAR, sort="sla_due"
                ),
                limit=SHOWN,
                offset=0,
            ),
            "newest_mail": newest_mail(session, principal),
            "held": {
                kind: triage.held(session, principal, kind, limit=1, offset=0).total
                for kind in triage.KINDS
            },
            "quarantined": (
                quarantine.count_waiting(session) if principal.can(INBOUND_VIEW) else None
            ),
            # The held-as-spam block (dashboard_spam.html): the newest few, one-click release.
            "held_spam": triage.held(session, principal, "spam", limit=SPAM_SHOWN, offset=0),
            **attention(session, principal, runtime),
        },
    )


def active_by_priority(
    session: Session, principal: Principal, count_limit: int | None = None
) -> dict[str, Total]:
    """Active, unmerged tickets in the principal's queues, counted per priority (the same
    tickets as the list filtered by each priority). Exact: one grouped pass over them all;
    with `count_limit`, one count per priority that stops past the bound (through the
    status and priority index), as the list it links to counts."""
    statement = visible_tickets(principal).where(
        Ticket.status.in_(ACTIVE), Ticket.merged_into_id.is_(None)
    )
    queue = teams.queue_condition(principal, Ticket.team_id, Ticket.assigned_to_user_id)
    if queue is not None:  # as the list the counts link to (docs/teams.md)
        statement = statement.where(queue)
    if count_limit is not None:
        return {
            name: count_rows(session, statement.where(Ticket.priority == name), count_limit)
            for name in PRIORITIES
        }
    visible = statement.subquery()
    rows = session.execute(
        select(visible.c.priority, func.count()).group_by(visible.c.priority)
    ).all()
    return {priority: Total(int(n)) for priority, n in rows}


def attention(session: Session, principal: Principal, runtime: Runtime) -> dict[str, Any]:
    """Workflow alerts, broken and stale mailboxes, for those who can act on them."""
    alerts: list[dict[str, object]] = []
    broken: list[Mailbox] = []
    stale: list[Mailbox] = []
    if principal.can(WORKFLOWS_MANAGE):
        alerts = engine.alerts(session, runtime.settings.workflow_failure_alert_threshold)
    if principal.can(MAILBOXES_MANAGE):
        found = mailboxes.list_mailboxes(session, principal, limit=500, offset=0).items
        broken = [m for m in found if m.enabled and m.state == "error"]
        stale = mailbox_status.stale_mailboxes(session, runtime.settings, utcnow())
    return {
        "workflow_alerts": alerts,
        "broken_mailboxes": broken,
        "stale_mailboxes": stale,
        "stale_minutes": round(
            mailbox_status.stale_threshold(runtime.settings).total_seconds() / 60
        ),
    }


def newest_mail(session: Session, principal: Principal) -> list[tuple[EmailLog, Ticket]]:
    """The latest inbound mail on tickets in the principal's queues, with its ticket."""
    statement = visible_tickets(principal)
    queue = teams.queue_condition(principal, Ticket.team_id, Ticket.assigned_to_user_id)
    if queue is not None:  # the viewer's teams' tickets and those of no team (docs/teams.md)
        statement = statement.where(queue)
    visible = statement.subquery()
    rows = session.execute(
        select(EmailLog, Ticket)
        .join(visible, visible.c.id == EmailLog.ticket_id)
        .join(Ticket, Ticket.id == EmailLog.ticket_id)
        .where(EmailLog.direction == "inbound")
        .order_by(EmailLog.created_at.desc(), EmailLog.id.desc())
        .limit(SHOWN)
    ).all()
    return [(mail, ticket) for mail, ticket in rows]
