"""Customers (with their mail domains) and contacts created and changed by hand, for holders
of `customers.manage`: `/customers/new`, `/customers/{id}/edit` and `/contacts/new`.

The posts go through `hubdesk.customers.service`, as the API's do: a domain is checked and
may belong to one customer only, free-mail domains are refused, a contact's address is unique.
A refused form comes back as typed with the reason; a double click creates one customer or
contact (`hubdesk.web.ui.once`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import SessionDep
from hubdesk.access.sessions import BrowserSession
from hubdesk.customers import service as customers
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.users.permissions import CUSTOMERS_MANAGE
from hubdesk.web.ui import flash, forms, i18n, once
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.web.ui.ticket_forms import PostedForm
from hubdesk.web.ui.ticket_page import MAX_CHOICES

router = page_router()
CUSTOMER_FIELDS = ("name", "domains", "notes", "active")
CONTACT_FIELDS = ("email", "name", "customer_id")


@router.get("/customers/new")
def new_customer_page(request: Request, viewer: ViewerDep) -> Response:
    viewer.principal.require(CUSTOMERS_MANAGE)
    values = {"name": "", "domains": "", "notes": "", "active": "1"}
    return render(request, "customer_form.html", {"customer": None, "values": values})


@router.post("/customers/new")
def create_customer(
    request: Request, session: SessionDep, viewer: ViewerDep, form: PostedForm
) -> Response:
    viewer.principal.require(CUSTOMERS_MANAGE)
    values = {name: form.get(name, "") for name in CUSTOMER_FIELDS}
    _ = i18n.translator(language_of(request))
    claim = once.claim(session, viewer.user_id, form.get(once.FIELD))
    if claim.repeat is not None:
        return flash.redirect(request, claim.repeat, _("This form was sent already."))
    try:
        customer = customers.create_customer(
            session,
            viewer.principal,
            name=values["name"],
            domains=forms.address_list(values["domains"]),
            notes=values["notes"],
            active=forms.checked(values["active"] or None),
        )
    except (ValidationFailed, Conflict) as exc:
        context = {"customer": None, "values": values}
        form_refused(request, "customer_form.html", context, i18n.said(language_of(request), exc))
    url = f"/customers/{customer.id}"
    claim.finish(url)
    return flash.redirect(request, url, _("Customer {name} created.", name=customer.name))


@router.get("/customers/{customer_id}/edit")
def edit_customer_page(
    request: Request, customer_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    viewer.principal.require(CUSTOMERS_MANAGE)
    customer = customers.get_customer(session, viewer.principal, customer_id)
    values = {
        "name": customer.name,
        "domains": "\n".join(customer.domains),
        "notes": customer.notes,
        "active": "1" if customer.active else "",
    }
    return render(request, "customer_form.html", {"customer": customer, "values": values})


@router.post("/customers/{customer_id}/edit")
def update_customer(
    request: Request, customer_id: int, session: SessionDep, viewer: ViewerDep, form: PostedForm
) -> Response:
    viewer.principal.require(CUSTOMERS_MANAGE)
    customer = customers.get_customer(session, viewer.principal, customer_id)
    values = {name: form.get(name, "") for name in CUSTOMER_FIELDS}
    changes = {
        "name": values["name"],
        "domains": forms.address_list(values["domains"]),
        "notes": values["notes"],
        "active": forms.checked(values["active"] or None),
    }
    try:
        customers.update_customer(session, viewer.principal, customer, changes)
    except (ValidationFailed, Conflict) as exc:
        context = {"customer": customer, "values": values}
        form_refused(request, "customer_form.html", context, i18n.said(language_of(request), exc))
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, f"/customers/{customer.id}", _("Customer saved."))


@router.get("/contacts/new")
def new_contact_page(
    request: Request, session: SessionDep, viewer: ViewerDep, customer: int | None = None
) -> Response:
    viewer.principal.require(CUSTOMERS_MANAGE)
    values = {"email": "", "name": "", "customer_id": str(customer) if customer else ""}
    return render(request, "contact_form.html", contact_context(session, viewer, values))


@router.post("/contacts/new")
def create_contact(
    request: Request, session: SessionDep, viewer: ViewerDep, form: PostedForm
) -> Response:
    viewer.principal.require(CUSTOMERS_MANAGE)
    values = {name: form.get(name, "") for name in CONTACT_FIELDS}
    _ = i18n.translator(language_of(request))
    claim = once.claim(session, viewer.user_id, form.get(once.FIELD))
    if claim.repeat is not None:
        return flash.redirect(request, claim.repeat, _("This form was sent already."))
    try:
        contact = customers.create_contact(
            session,
            viewer.principal,
            email=values["email"],
            name=values["name"],
            customer_id=forms.optional_id(values["customer_id"], "customer"),
        )
    except (ValidationFailed, Conflict) as exc:
        context = contact_context(session, viewer, values)
        form_refused(request, "contact_form.html", context, i18n.said(language_of(request), exc))
    url = f"/customers/{contact.customer_id}" if contact.customer_id else "/customers"
    claim.finish(url)
    return flash.redirect(request, url, _("Contact {email} created.", email=contact.email))


def contact_context(
    session: Session, viewer: BrowserSession, values: dict[str, str]
) -> dict[str, Any]:
    found = customers.list_customers(session, viewer.principal, q=None, limit=MAX_CHOICES, offset=0)
    return {"values": values, "customers": found.items, "problems": []}
