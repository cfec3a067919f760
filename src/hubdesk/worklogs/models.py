"""Time spent on tickets, billable to an invoice or drawn from a prepaid card."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow

BILLING_METHODS = ("none", "invoice", "prepaid")


class Worklog(Base):
    __tablename__ = "tticket_worklogs"
    __table_args__ = (
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint("billing IN ('none', 'invoice', 'prepaid')", name="billing"),
        CheckConstraint(
            "billing <> 'invoice' OR invoice_reference IS NOT NULL", name="invoice_reference"
        ),
        CheckConstraint("billing <> 'prepaid' OR prepaid_card_id IS NOT NULL", name="prepaid_card"),
        # The reports' period index, covering their sums (migration 0018_worklog_report_index).
        Index(
            "ix_tticket_worklogs_report",
            "work_date",
            "ticket_id",
            "user_id",
            "minutes",
            "billable",
            "billing",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    work_date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    billable: Mapped[bool] = mapped_column(Boolean, default=True)
    billing: Mapped[str] = mapped_column(String(16), default="none")
    invoice_reference: Mapped[str | None] = mapped_column(String(200))
    prepaid_card_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_prepaid_cards.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
