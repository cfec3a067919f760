"""Prepaid cards: buy one for a customer (`/customers/{id}/cards/new`, `prepaid.manage`), see
a card's balance and its draw-downs (`/prepaid-cards/{id}`, `prepaid.view`), and cancel it
(`prepaid.manage`).

Everything goes through `hubdesk.prepaid.service`, as `/api/v1/prepaid-cards` does (the same
checks: whole minutes, no negative price, an ISO 4217 currency, expiry not before purchase).
A refused purchase comes back as typed with the reason; a double click buys one card
(`hubdesk.web.ui.once`). Draw-downs are listed with the worklog and ticket they paid for.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.customers import service as customers
from hubdesk.customers.models import Customer
from hubdesk.errors import ValidationFailed
from hubdesk.prepaid import service as prepaid
from hubdesk.prepaid.models import PrepaidDrawdown
from hubdesk.tickets.models import Ticket
from hubdesk.users.models import User
from hubdesk.users.permissions import PREPAID_MANAGE
from hubdesk.web.ui import flash, forms, i18n, once
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.web.ui.ticket_forms import PostedForm
from hubdesk.worklogs.models import Worklog

router = page_router()
FIELDS = ("hours_bought", "price", "currency", "bought_on", "expires_on", "notes")


@router.get("/customers/{customer_id}/cards/new")
def new_card_page(
    request: Request, customer_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    viewer.principal.require(PREPAID_MANAGE)
    customer = customers.get_customer(session, viewer.principal, customer_id)
    values = dict.fromkeys(FIELDS, "")
    values.update(currency="DKK", price="0")
    return render(request, "card_new.html", _context(customer, values))


@router.post("/customers/{customer_id}/cards/new")
def buy_card(
    request: Request,
    customer_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    form: PostedForm,
) -> Response:
    viewer.principal.require(PREPAID_MANAGE)
    customer = customers.get_customer(session, viewer.principal, customer_id)
    values = {name: form.get(name, "") for name in FIELDS}
    _ = i18n.translator(language_of(request))
    claim = once.claim(session, viewer.user_id, form.get(once.FIELD))
    if claim.repeat is not None:
        return flash.redirect(request, claim.repeat, _("This form was sent already."))
    try:
        card = prepaid.create_card(
            session,
            viewer.principal,
            prepaid.NewCard(
                customer_id=customer.id,
                hours_bought=_number(values["hours_bought"], "hours_bought"),
                price=_number(values["price"] or "0", "price"),
                currency=values["currency"],
                bought_on=forms.optional_date(values["bought_on"], "bought_on"),
                expires_on=forms.optional_date(values["expires_on"], "expires_on"),
                notes=values["notes"],
            ),
            today=runtime.today(),
        )
    except ValidationFailed as exc:
        form_refused(
            request,
            "card_new.html",
            _context(customer, values),
            i18n.said(language_of(request), exc),
        )
    url = f"/prepaid-cards/{card.id}"
    claim.finish(url)
    return flash.redirect(request, url, _("Prepaid card #{id} bought.", id=card.id))


@router.get("/prepaid-cards/{card_id}")
def card_page(
    request: Request, card_id: int, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    card = prepaid.get_card(session, viewer.principal, card_id)
    customer = session.get(Customer, card.customer_id)
    return render(
        request,
        "card.html",
        {
            "card": card,
            "customer": customer,
            "balance": prepaid.balance(card, runtime.today()),
            "drawdowns": drawdown_rows(session, card.id),
        },
    )


@router.post("/prepaid-cards/{card_id}/cancel")
def cancel_card(request: Request, card_id: int, session: SessionDep, viewer: ViewerDep) -> Response:
    card = prepaid.get_card(session, viewer.principal, card_id)
    prepaid.cancel_card(session, viewer.principal, card)
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, f"/prepaid-cards/{card.id}", _("The card was cancelled."))


def drawdown_rows(session: Session, card_id: int) -> list[Any]:
    """Each draw-down with its worklog, ticket and agent, oldest first."""
    return list(
        session.execute(
            select(PrepaidDrawdown, Worklog, Ticket.ticket_number, User.name)
            .join(Worklog, Worklog.id == PrepaidDrawdown.worklog_id)
            .join(Ticket, Ticket.id == Worklog.ticket_id)
            .outerjoin(User, User.id == Worklog.user_id)
            .where(PrepaidDrawdown.card_id == card_id)
            .order_by(PrepaidDrawdown.created_at, PrepaidDrawdown.id)
        ).all()
    )


def _number(value: str, field: str) -> Decimal:
    """`2`, `1.5` or `1,5` (a Danish keyboard's comma) as a Decimal."""
    text = (value or "").strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"{field} must be a number such as 1.5") from None
    if not number.is_finite():
        raise ValidationFailed(f"{field} must be a number such as 1.5")
    return number


def _context(customer: Customer, values: dict[str, str]) -> dict[str, Any]:
    return {"customer": customer, "values": values, "problems": []}
