"""Stored classifier models (versioned, one active) and every classification decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow


class ClassifierModel(Base):
    """A trained statistical model in a safe serialised form (never a pickle)."""

    __tablename__ = "classifier_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    labels: Mapped[list[str]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    training: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Where the samples came from: folders, agent labels, counts per label."""
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(400), default="")


class Classification(Base):
    """One decision about one inbound email: by the rules, a model, or an agent (a label)."""

    __tablename__ = "inbound_classifications"
    __table_args__ = (Index("ix_inbound_classifications_inbound", "inbound_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(64), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    """`rules`, `model` or `agent`."""
    model: Mapped[str] = mapped_column(String(100))
    """What decided, with its version: `rules/1`, `hubdesk-text/3`, `agent:<email>`."""
    reasons: Mapped[list[str]] = mapped_column(default=list)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
