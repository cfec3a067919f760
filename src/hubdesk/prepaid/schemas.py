"""API shapes of prepaid hour cards, balances and draw-downs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from hubdesk.api.limits import CURRENCY_PATTERN, MAX_NOTES_CHARS, Hours, Id, Price
from hubdesk.api.schemas import Out, Strict


class CardCreate(Strict):
    customer_id: Id
    hours_bought: Hours
    price: Price = Decimal("0")
    currency: str = Field(
        default="DKK",
        min_length=3,
        max_length=3,
        json_schema_extra={"pattern": CURRENCY_PATTERN},
        description="An ISO 4217 code: three letters, such as DKK",
    )
    bought_on: date | None = None
    expires_on: date | None = None
    notes: str = Field(default="", max_length=MAX_NOTES_CHARS)


class CardOut(Out):
    id: int
    customer_id: int
    hours_bought: Decimal
    price: Decimal
    currency: str
    bought_on: date
    expires_on: date | None
    status: str
    minutes_total: int
    minutes_used: int
    minutes_remaining: int
    hours_remaining: float
    notes: str
    created_at: datetime
    cancelled_at: datetime | None


class DrawdownOut(Out):
    id: int
    worklog_id: int
    minutes: int
    created_at: datetime


class CardBalance(CardOut):
    drawdowns: list[DrawdownOut]
