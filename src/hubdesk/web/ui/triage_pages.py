"""`/triage`: mail waiting for a person, and mail held as spam, for agents to decide on.

The tabs are `hubdesk.intake.triage.held` (kind `triage` or `spam`; `tickets.view`), the
decisions its `decide` (open a ticket, for spam: release it; add to a ticket by number;
dismiss; `tickets.create`), run like the API's: the ledger row locked in a transaction of the
route's own, since the decision re-parses the kept raw mail and runs the ticket actions.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import Form, Request
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.inbound import service as inbound
from hubdesk.intake import triage
from hubdesk.intake.types import Outcome
from hubdesk.users.permissions import TICKETS_CREATE
from hubdesk.web.ui import flash, i18n
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of, render

router = page_router()
PAGE_SIZE: Final = 50
TextField = Annotated[str, Form()]


@router.get("/triage")
def triage_page(
    request: Request, session: SessionDep, viewer: ViewerDep, kind: str = "triage", page: int = 1
) -> Response:
    page = max(page, 1)
    if kind not in triage.KINDS:
        kind = "triage"
    found = triage.held(
        session, viewer.principal, kind, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    counts = {
        name: (
            found.total
            if name == kind
            else triage.held(session, viewer.principal, name, limit=1, offset=0).total
        )
        for name in triage.KINDS
    }
    return render(
        request,
        "triage.html",
        {
            "kind": kind,
            "found": found,
            "counts": counts,
            "page": page,
            "pages": max(1, -(-found.total // PAGE_SIZE)),
            "page_url": lambda n: f"/triage?{urlencode({'kind': kind, 'page': n})}",
        },
    )


@router.post("/triage/{inbound_id}")
def decide(
    request: Request,
    inbound_id: int,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    action: TextField = "",
    ticket_number: TextField = "",
    back: TextField = "/triage",
) -> Response:
    """Open a ticket from the mail (releasing spam), add it to a ticket, or dismiss it."""
    viewer.principal.require(TICKETS_CREATE)
    target = flash.safe_local_path(back, "/triage")
    with runtime.db.transaction() as session:
        row = inbound.lock(session, inbound_id)
        if not triage.is_held(row):
            # A second click, or a stale page: someone already released or dismissed it.
            _ = i18n.translator(language_of(request))
            return flash.redirect(request, target, _("This mail was already handled."))
        outcome = triage.decide(
            session,
            runtime,
            viewer.principal,
            row,
            action,
            ticket_number.strip().upper() or None,
        )
    return flash.redirect(request, target, _decided(request, outcome))


def _decided(request: Request, outcome: Outcome) -> str:
    _ = i18n.translator(language_of(request))
    number = outcome.ticket_number or ""
    if outcome.status == "created":
        return _("Ticket {number} was opened from the mail.", number=number)
    if outcome.status == "linked":
        return _("The mail was added to {number}.", number=number)
    return _("The mail was dismissed.")
