"""`/api/v1/customers` and `/api/v1/contacts`."""

from __future__ import annotations

from fastapi import APIRouter

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, page_of
from hubdesk.customers import service
from hubdesk.customers.schemas import (
    ContactCreate,
    ContactOut,
    ContactUpdate,
    CustomerCreate,
    CustomerOut,
    CustomerUpdate,
)

router = APIRouter(tags=["customers"])


@router.get("/customers", response_model=ListOf[CustomerOut])
def list_customers(
    session: SessionDep, principal: PrincipalDep, paging: PagingDep, q: str | None = None
) -> ListOf[CustomerOut]:
    page = service.list_customers(session, principal, q=q, limit=paging.limit, offset=paging.offset)
    return page_of(CustomerOut, page)


@router.post("/customers", response_model=CustomerOut, status_code=201)
def create_customer(
    body: CustomerCreate, session: SessionDep, principal: PrincipalDep
) -> CustomerOut:
    customer = service.create_customer(
        session,
        principal,
        name=body.name,
        domains=body.domains,
        notes=body.notes,
        active=body.active,
    )
    return CustomerOut.model_validate(customer)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: Id, session: SessionDep, principal: PrincipalDep) -> CustomerOut:
    return CustomerOut.model_validate(service.get_customer(session, principal, customer_id))


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
def update_customer(
    customer_id: Id, body: CustomerUpdate, session: SessionDep, principal: PrincipalDep
) -> CustomerOut:
    customer = service.get_customer(session, principal, customer_id)
    changes = {key: getattr(body, key) for key in body.model_fields_set}
    return CustomerOut.model_validate(
        service.update_customer(session, principal, customer, changes)
    )


@router.get("/contacts", response_model=ListOf[ContactOut])
def list_contacts(
    session: SessionDep,
    principal: PrincipalDep,
    paging: PagingDep,
    customer_id: Id | None = None,
    email: str | None = None,
) -> ListOf[ContactOut]:
    page = service.list_contacts(
        session,
        principal,
        customer_id=customer_id,
        email=email,
        limit=paging.limit,
        offset=paging.offset,
    )
    return page_of(ContactOut, page)


@router.post("/contacts", response_model=ContactOut, status_code=201)
def create_contact(body: ContactCreate, session: SessionDep, principal: PrincipalDep) -> ContactOut:
    contact = service.create_contact(
        session, principal, email=body.email, name=body.name, customer_id=body.customer_id
    )
    return ContactOut.model_validate(contact)


@router.get("/contacts/{contact_id}", response_model=ContactOut)
def get_contact(contact_id: Id, session: SessionDep, principal: PrincipalDep) -> ContactOut:
    return ContactOut.model_validate(service.get_contact(session, principal, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactOut)
def update_contact(
    contact_id: Id, body: ContactUpdate, session: SessionDep, principal: PrincipalDep
) -> ContactOut:
    contact = service.get_contact(session, principal, contact_id)
    changes = {key: getattr(body, key) for key in body.model_fields_set}
    return ContactOut.model_validate(service.update_contact(session, principal, contact, changes))
