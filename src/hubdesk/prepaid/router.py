"""`/api/v1/prepaid-cards`: buy, list, balance with draw-downs, cancel."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf
from hubdesk.prepaid import service
from hubdesk.prepaid.models import PrepaidCard
from hubdesk.prepaid.schemas import CardBalance, CardCreate, CardOut, DrawdownOut

router = APIRouter(prefix="/prepaid-cards", tags=["prepaid"])


def card_out(card: PrepaidCard, today: date) -> dict[str, Any]:
    return {
        "id": card.id,
        "customer_id": card.customer_id,
        "hours_bought": card.hours_bought,
        "price": card.price,
        "currency": card.currency,
        "bought_on": card.bought_on,
        "expires_on": card.expires_on,
        "notes": card.notes,
        "created_at": card.created_at,
        "cancelled_at": card.cancelled_at,
        **service.balance(card, today),
    }


@router.get("", response_model=ListOf[CardOut])
def list_cards(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    paging: PagingDep,
    customer_id: Id | None = None,
    status: Literal["active", "depleted", "expired", "cancelled"] | None = None,
) -> ListOf[CardOut]:
    page = service.list_cards(
        session,
        principal,
        customer_id=customer_id,
        status=status,
        limit=paging.limit,
        offset=paging.offset,
    )
    today = runtime.today()
    return ListOf[CardOut](
        items=[CardOut.model_validate(card_out(c, today)) for c in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("", response_model=CardOut, status_code=201)
def create_card(
    body: CardCreate, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> CardOut:
    today = runtime.today()
    card = service.create_card(
        session, principal, service.NewCard(**body.model_dump()), today=today
    )
    return CardOut.model_validate(card_out(card, today))


@router.get("/{card_id}", response_model=CardOut)
def get_card(
    card_id: Id, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> CardOut:
    return CardOut.model_validate(
        card_out(service.get_card(session, principal, card_id), runtime.today())
    )


@router.get("/{card_id}/balance", response_model=CardBalance)
def card_balance(
    card_id: Id, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> CardBalance:
    card = service.get_card(session, principal, card_id)
    rows = [DrawdownOut.model_validate(d) for d in service.drawdowns(session, card)]
    return CardBalance.model_validate({**card_out(card, runtime.today()), "drawdowns": rows})


@router.post("/{card_id}/cancel", response_model=CardOut)
def cancel_card(
    card_id: Id, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> CardOut:
    card = service.get_card(session, principal, card_id)
    return CardOut.model_validate(
        card_out(service.cancel_card(session, principal, card), runtime.today())
    )
