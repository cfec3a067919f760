"""`/tickets/new`: open a ticket by hand (a phone call, a visit), for holders of
`tickets.create`.

The post goes through `hubdesk.tickets.service.create_ticket`, as `POST /api/v1/tickets`
does, with source `web`; assigning it to someone needs `tickets.assign` there too, and the
assignee (someone other than the creator) gets the "assigned to you" notification. A contact
chosen without a customer brings its own customer. A refused form comes back as typed, with
the reason; the form's one-time token (`hubdesk.web.ui.once`) makes a double click open one
ticket.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.access.sessions import BrowserSession
from hubdesk.customers import service as customers
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.tickets import service as tickets
from hubdesk.tickets.states import PRIORITIES
from hubdesk.users.permissions import TICKETS_ASSIGN, TICKETS_CREATE
from hubdesk.web.ui import flash, forms, i18n, once
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.web.ui.ticket_forms import PostedForm
from hubdesk.web.ui.ticket_page import MAX_CHOICES, active_users

router = page_router()
FIELDS = ("subject", "description", "customer_id", "contact_id", "priority", "assignee", "tags")


@router.get("/tickets/new")
def new_ticket_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    customer: int | None = None,
) -> Response:
    viewer.principal.require(TICKETS_CREATE)
    values = dict.fromkeys(FIELDS, "")
    values["priority"] = runtime.settings.ticket_default_priority
    values["customer_id"] = str(customer) if customer is not None else ""
    return render(request, "ticket_new.html", choices(session, viewer, values))


@router.post("/tickets/new")
def create_ticket(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    form: PostedForm,
) -> Response:
    principal = viewer.principal
    principal.require(TICKETS_CREATE)
    values = {name: form.get(name, "") for name in FIELDS}
    _ = i18n.translator(language_of(request))
    claim = once.claim(session, viewer.user_id, form.get(once.FIELD))
    if claim.repeat is not None:
        return flash.redirect(request, claim.repeat, _("This form was sent already."))
    try:
        customer_id = forms.optional_id(values["customer_id"], "customer")
        contact_id = forms.optional_id(values["contact_id"], "contact")
        assignee = forms.optional_id(values["assignee"], "assignee")
        if contact_id is not None and customer_id is None:
            customer_id = customers.get_contact(session, principal, contact_id).customer_id
        ticket = tickets.create_ticket(
            session,
            principal,
            tickets.NewTicket(
                subject=values["subject"],
                description=values["description"],
                priority=values["priority"] or runtime.settings.ticket_default_priority,
                customer_id=customer_id,
                contact_id=contact_id,
                assigned_to_user_id=assignee,
                tags=tuple(forms.tag_list(values["tags"])),
                source="web",
            ),
            tz=runtime.settings.tz,
        )
    except (ValidationFailed, Conflict) as exc:
        form_refused(
            request,
            "ticket_new.html",
            choices(session, viewer, values),
            i18n.said(language_of(request), exc),
        )
    tickets.notify_assigned(session, runtime, principal, ticket, ticket.created_at)
    url = f"/tickets/{ticket.id}"
    claim.finish(url)
    return flash.redirect(request, url, _("Ticket {number} opened.", number=ticket.ticket_number))


def choices(session: Session, viewer: BrowserSession, values: dict[str, str]) -> dict[str, Any]:
    """The form's values and what its lists offer (customers, their contacts, agents)."""
    principal = viewer.principal
    found = customers.list_customers(session, principal, q=None, limit=MAX_CHOICES, offset=0)
    contacts = customers.list_contacts(
        session, principal, customer_id=None, email=None, limit=MAX_CHOICES, offset=0
    )
    names = {c.id: c.name for c in found.items}
    return {
        "values": values,
        "problems": [],
        "customers": found.items,
        "contacts": [(c, names.get(c.customer_id, "")) for c in contacts.items],
        "priorities": PRIORITIES,
        "agents": active_users(session) if principal.can(TICKETS_ASSIGN) else [],
    }
