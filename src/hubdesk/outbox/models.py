"""Outgoing mail: composed messages waiting to be sent after their transaction committed,
every delivery attempt, per-address delivery flags, and the editable mail templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "bounced", "held", "suppressed")
OUTBOX_KINDS = ("auto_reply", "agent_reply", "notification", "notice")


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'bounced', 'held', 'suppressed')",
            name="status",
        ),
        CheckConstraint(
            "kind IN ('auto_reply', 'agent_reply', 'notification', 'notice')", name="kind"
        ),
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_messages_kind_recipient_created", "kind", "recipient", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(320))
    """The first To address (lowercased): what per-recipient limits count."""
    recipients: Mapped[list[str]] = mapped_column(default=list)
    """Every envelope recipient (To and Cc)."""
    envelope_from: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    subject: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]
    email_log_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_email_log.id", ondelete="SET NULL")
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxAttempt(Base):
    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[str] = mapped_column(String(16))
    """`sent`, `temporary` (will retry) or `permanent`."""
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")


class AddressFlag(Base):
    """Delivery facts about an address we send to: a bounce holds further mail to it."""

    __tablename__ = "address_flags"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    bouncing: Mapped[bool] = mapped_column(Boolean, default=False)
    bounce_count: Mapped[int] = mapped_column(Integer, default=0)
    last_bounce_at: Mapped[datetime | None]
    last_bounce_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailTemplate(Base):
    """An editable template (e.g. the auto-reply) in one language."""

    __tablename__ = "mail_templates"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(400), default="")
