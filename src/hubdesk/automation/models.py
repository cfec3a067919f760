"""Automation tables: the round-robin cursor of each group, the automatic events fired (a
unique key makes each fire once) and snoozed tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from hubdesk.db import ids
from hubdesk.db.base import Base
from hubdesk.db.types import utcnow
from hubdesk.tickets.models import Ticket


class AssignmentCursor(Base):
    """Where a group's round robin stands: the agent who got the last ticket. Its row is
    locked while a ticket is assigned, so two assignments at once never pick by stale state."""

    __tablename__ = "assignment_cursors"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    last_user_id: Mapped[int | None] = mapped_column(Integer)
    assigned_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutomationEvent(Base):
    """One automatic change fired by the worker (auto-close, a reminder, auto-resolve, a
    snooze ending). `event_key` is unique: a doubled or restarted worker inserts nothing and
    changes nothing the second time."""

    __tablename__ = "automation_events"
    __table_args__ = (Index("ix_automation_events_ticket_fired", "ticket_id", "fired_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tticket_tickets.id", ondelete="CASCADE"))
    ticket = ids.parent(Ticket)
    kind: Mapped[str] = mapped_column(String(32))
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TicketSnooze(Base):
    """A snoozed ticket: hidden from the default open list until `until`, when the worker
    ends the snooze and notifies the assignee."""

    __tablename__ = "ticket_snoozes"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime] = mapped_column(index=True)
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(
        backref=backref("snooze", uselist=False, lazy="selectin", passive_deletes=True)
    )
