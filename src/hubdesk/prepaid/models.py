"""Prepaid hour cards and their draw-down ledger.

The balance can never go below zero, and the database itself makes sure: a trigger adds each
draw-down's minutes to the card's `minutes_used`, and a CHECK constraint refuses
`minutes_used > ROUND(hours_bought * 60)`. Every used minute is a draw-down row naming a
worklog. ROUND because SQLite keeps NUMERIC as a binary float: 2.05 hours * 60 is
122.99999999999999 there, and without it the 123rd minute bought could never be used.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow

CARD_STATUSES = ("active", "depleted", "expired", "cancelled")


class PrepaidCard(Base):
    __tablename__ = "tticket_prepaid_cards"
    __table_args__ = (
        CheckConstraint("hours_bought > 0", name="hours_positive"),
        CheckConstraint("minutes_used >= 0", name="used_not_negative"),
        CheckConstraint("minutes_used <= ROUND(hours_bought * 60)", name="balance_not_negative"),
        CheckConstraint("status IN ('active', 'depleted', 'expired', 'cancelled')", name="status"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    hours_bought: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="DKK")
    bought_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    minutes_used: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    @property
    def minutes_total(self) -> int:
        return int(self.hours_bought * 60)

    @property
    def minutes_remaining(self) -> int:
        return self.minutes_total - self.minutes_used


class PrepaidDrawdown(Base):
    __tablename__ = "tticket_prepaid_drawdowns"
    __table_args__ = (CheckConstraint("minutes > 0", name="minutes_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("tticket_prepaid_cards.id"), index=True)
    worklog_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_worklogs.id", ondelete="CASCADE"), unique=True
    )
    minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
