"""SLA tables: policies (with their calendar and targets), which customers use which policy,
one clock per ticket, and the escalations fired (a unique key makes each fire once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow
from hubdesk.tickets.models import Ticket


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Day name (mon..sun) -> [["08:00", "16:00"], ...]."""
    holidays: Mapped[list[str]] = mapped_column(default=list)
    country_holidays: Mapped[str | None] = mapped_column(String(8))
    targets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Priority -> {first_response_minutes, next_response_minutes, resolution_minutes}."""
    warning_percent: Mapped[int] = mapped_column(Integer, default=80)
    escalations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """"warning" | "breach" -> list of escalation action names."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer_rows: Mapped[list[SlaPolicyCustomer]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="SlaPolicyCustomer.customer_id"
    )

    @property
    def customer_ids(self) -> list[int]:
        return [row.customer_id for row in self.customer_rows]


class SlaPolicyCustomer(Base):
    """A customer's own policy (a customer has at most one)."""

    __tablename__ = "sla_policy_customers"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="CASCADE"), index=True
    )


class SlaClock(Base):
    """A ticket's SLA clock: the facts (start, pauses, the reply awaiting an answer, what was
    met or missed) and the due times computed from them (stored for lists and the worker)."""

    __tablename__ = "sla_ticket_clocks"
    __table_args__ = (
        Index("ix_sla_ticket_clocks_next_due_at", "next_due_at"),
        Index("ix_sla_ticket_clocks_warning_at", "warning_at"),
    )

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"), index=True
    )
    started_at: Mapped[datetime]
    resolution_started_at: Mapped[datetime]
    pauses: Mapped[list[Any]] = mapped_column(default=list)
    """[[start ISO, end ISO or null], ...] in UTC: the ticket waited for the customer."""
    awaiting_since: Mapped[datetime | None]
    first_response_met_at: Mapped[datetime | None]
    next_response_met_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    missed: Mapped[list[str]] = mapped_column(default=list)
    last_status: Mapped[str] = mapped_column(String(32))
    last_priority: Mapped[str] = mapped_column(String(16))
    last_customer_id: Mapped[int | None]
    first_response_due_at: Mapped[datetime | None]
    next_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    warning_at: Mapped[datetime | None]
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(
        backref=backref("sla_clock", uselist=False, lazy="selectin", passive_deletes=True)
    )


class SlaEscalation(Base):
    """One escalation fired: a warning or a breach of one target of one clock cycle, with
    what its actions did. `event_key` is unique, so a doubled or restarted worker that sees
    the same moment again inserts nothing and fires nothing."""

    __tablename__ = "sla_escalations"
    __table_args__ = (
        CheckConstraint("kind IN ('warning', 'breach')", name="kind"),
        Index("ix_sla_escalations_ticket_fired", "ticket_id", "fired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tticket_tickets.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime | None]
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    actions: Mapped[list[Any]] = mapped_column(default=list)
    """[{"action": name, "result": what it did}, ...]: the run's log."""
