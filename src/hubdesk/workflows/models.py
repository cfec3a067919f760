"""Email workflows (the spec's JSON form, stored) and their executions.

`email_workflow_executions` is the table the spec's troubleshooting query reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hubdesk.db import ids
from hubdesk.db.base import Base
from hubdesk.db.types import utcnow
from hubdesk.tickets.models import Ticket

EXECUTION_STATUSES = ("pending", "running", "completed", "failed", "skipped")


class Workflow(Base):
    __tablename__ = "email_workflows"
    __table_args__ = (
        CheckConstraint(
            "confidence_threshold >= 0 AND confidence_threshold <= 1", name="threshold"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    classification_trigger: Mapped[str] = mapped_column(String(64), index=True)
    """A classification, or `*` for any."""
    confidence_threshold: Mapped[float] = mapped_column(Float, default=0.0)
    workflow_steps: Mapped[list[Any]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    stop_after_match: Mapped[bool] = mapped_column(Boolean, default=True)
    """When this workflow runs, later workflows do not (unless this is false)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkflowExecution(Base):
    __tablename__ = "email_workflow_executions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'skipped')", name="status"
        ),
        Index("ix_email_workflow_executions_status_created", "status", "created_at"),
        Index("ix_email_workflow_executions_workflow_created", "workflow_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_workflows.id", ondelete="SET NULL")
    )
    workflow_name: Mapped[str] = mapped_column(String(200))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True
    )
    classification: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    step_results: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="SET NULL")
    )
    ticket = ids.parent(Ticket)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    retry_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_workflow_executions.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
