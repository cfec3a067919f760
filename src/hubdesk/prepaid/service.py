"""Prepaid hour cards: buying, balances, draw-downs for worklogs, cancelling.

The card's effective status is computed when read: an active card past its expiry date is
`expired`, and one with no minutes left is `depleted`; the stored status follows on writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.api.limits import CURRENCY_PATTERN
from hubdesk.audit import service as audit
from hubdesk.customers.models import Customer
from hubdesk.db.paging import Page, paginate
from hubdesk.db.types import utcnow
from hubdesk.errors import NotFound, ValidationFailed
from hubdesk.prepaid.models import PrepaidCard, PrepaidDrawdown
from hubdesk.text import multi_line
from hubdesk.users.permissions import PREPAID_MANAGE, PREPAID_VIEW, Principal

_CURRENCY: Final = re.compile(CURRENCY_PATTERN)


@dataclass(frozen=True)
class NewCard:
    customer_id: int
    hours_bought: Decimal
    price: Decimal = Decimal("0")
    currency: str = "DKK"
    bought_on: date | None = None
    expires_on: date | None = None
    notes: str = ""


def effective_status(card: PrepaidCard, today: date) -> str:
    if card.status == "cancelled":
        return "cancelled"
    if card.minutes_remaining <= 0:
        return "depleted"
    if card.expires_on is not None and card.expires_on < today:
        return "expired"
    return "active"


def create_card(session: Session, actor: Principal, new: NewCard, *, today: date) -> PrepaidCard:
    actor.require(PREPAID_MANAGE)
    if session.get(Customer, new.customer_id) is None:
        raise ValidationFailed(f"customer {new.customer_id} does not exist")
    hours = _decimal("hours_bought", new.hours_bought)
    if hours <= 0 or hours * 60 != int(hours * 60):
        raise ValidationFailed(
            "hours_bought must be positive and in whole minutes (steps of 0.05 hours, e.g. 7.25)"
        )
    price = _decimal("price", new.price)
    if price < 0:
        raise ValidationFailed("price must not be negative")
    bought_on = new.bought_on or today
    if new.expires_on is not None and new.expires_on < bought_on:
        raise ValidationFailed("expires_on must not be before bought_on")
    currency = new.currency.strip().upper()
    if not _CURRENCY.match(new.currency):
        raise ValidationFailed.saying("currency must be a three-letter ISO 4217 code such as DKK")
    card = PrepaidCard(
        customer_id=new.customer_id,
        hours_bought=hours,
        price=price,
        currency=currency,
        bought_on=bought_on,
        expires_on=new.expires_on,
        notes=multi_line(new.notes),
        status="active",
        minutes_used=0,
    )
    session.add(card)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="prepaid_card",
        entity_id=card.id,
        action="created",
        changes=audit.created(
            {
                "customer_id": card.customer_id,
                "hours_bought": hours,
                "price": price,
                "currency": currency,
                "bought_on": bought_on,
                "expires_on": new.expires_on,
            }
        ),
    )
    return card


def _decimal(name: str, value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"{name} must be a number") from None


def get_card(session: Session, principal: Principal, card_id: int) -> PrepaidCard:
    principal.require(PREPAID_VIEW)
    card = session.get(PrepaidCard, card_id)
    if card is None:
        raise NotFound(f"prepaid card {card_id} not found")
    return card


def list_cards(
    session: Session,
    principal: Principal,
    *,
    customer_id: int | None,
    status: str | None,
    limit: int,
    offset: int,
) -> Page[Any]:
    principal.require(PREPAID_VIEW)
    statement = select(PrepaidCard)
    if customer_id is not None:
        statement = statement.where(PrepaidCard.customer_id == customer_id)
    if status is not None:
        statement = statement.where(PrepaidCard.status == status)
    return paginate(
        session,
        statement.order_by(PrepaidCard.bought_on, PrepaidCard.id),
        limit=limit,
        offset=offset,
    )


def drawdowns(session: Session, card: PrepaidCard) -> list[PrepaidDrawdown]:
    return list(
        session.scalars(
            select(PrepaidDrawdown)
            .where(PrepaidDrawdown.card_id == card.id)
            .order_by(PrepaidDrawdown.created_at, PrepaidDrawdown.id)
        )
    )


def draw(
    session: Session, card: PrepaidCard, worklog_id: int, minutes: int, *, today: date
) -> PrepaidDrawdown:
    """Draw `minutes` for a worklog. The database refuses an overdraw; we refuse it first
    with a clearer message, re-reading the card under a row lock to be exact: without FOR
    UPDATE two PostgreSQL transactions both see the old balance and the loser hits the
    trigger or CHECK as a raw database error (SQLite's BEGIN IMMEDIATE already serialises)."""
    session.refresh(card, with_for_update=True)
    status = effective_status(card, today)
    if status != "active":
        raise ValidationFailed(f"prepaid card {card.id} is {status}; choose an active card")
    if minutes > card.minutes_remaining:
        raise ValidationFailed(
            f"prepaid card {card.id} has {card.minutes_remaining} minutes left; "
            f"{minutes} were asked for"
        )
    row = PrepaidDrawdown(card_id=card.id, worklog_id=worklog_id, minutes=minutes)
    session.add(row)
    session.flush()
    session.refresh(card)
    if card.minutes_remaining == 0:
        card.status = "depleted"
    return row


def cancel_card(session: Session, actor: Principal, card: PrepaidCard) -> PrepaidCard:
    actor.require(PREPAID_MANAGE)
    if card.status == "cancelled":
        return card
    before = card.status
    card.status = "cancelled"
    card.cancelled_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="prepaid_card",
        entity_id=card.id,
        action="cancelled",
        changes={"status": [before, "cancelled"]},
    )
    return card


def refresh_status(card: PrepaidCard, today: date) -> None:
    """Store the effective status (expired or depleted) when it has moved on."""
    status = effective_status(card, today)
    if status != card.status and card.status != "cancelled":
        card.status = status


def balance(card: PrepaidCard, today: date) -> dict[str, Any]:
    return {
        "minutes_total": card.minutes_total,
        "minutes_used": card.minutes_used,
        "minutes_remaining": card.minutes_remaining,
        "hours_remaining": round(card.minutes_remaining / 60, 2),
        "status": effective_status(card, today),
    }


def today_in(tz: Any, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tz).date()
