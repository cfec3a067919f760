"""The inbound ledger: every received message's raw bytes (by sha256) and its fate.

    received -> processed | duplicate | ignored | quarantined | failed
    quarantined | failed -> (reprocess) -> any final status

`inbound_dedupe_keys` holds one row per dedupe key with the ledger row that owns it; its
primary key is what settles a race between two workers on the same message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
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

STATUSES = ("received", "processed", "duplicate", "ignored", "quarantined", "failed")
FINAL_STATUSES = frozenset({"processed", "duplicate", "ignored"})


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'processed', 'duplicate', 'ignored', 'quarantined', 'failed')",
            name="status",
        ),
        Index("ix_inbound_messages_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    """Where it came from: `file:<path>`, `stdin`, `api`, `lmtp`, `imap:<mailbox>` ..."""
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    raw_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="received")
    reason: Mapped[str] = mapped_column(Text, default="")
    """Why it ended as it did: a stable code first (`mime_depth: ...`, `auto_reply: ...`)."""
    message_id: Mapped[str | None] = mapped_column(Text, index=True)
    subject: Mapped[str | None] = mapped_column(Text)
    from_address: Mapped[str | None] = mapped_column(String(320))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="SET NULL"), index=True
    )
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Facts worth showing an admin: message_id_collision, bulk, from_problem, ..."""
    envelope: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Transport facts from the channel: MAIL FROM, RCPT TO, IMAP UID ..."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None]
    raw_purged_at: Mapped[datetime | None]
    raw_inline: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    """The raw bytes themselves, for a small message a batch path kept here instead of in the
    blob store (`HUBDESK_INLINE_MAX_BYTES`); NULL: they are in the blob store under
    `raw_sha256`. Loaded only when read (`inbound.service.raw_bytes`)."""
    # The classifier's current verdict (history in inbound_classifications), and the human
    # queue a message waits in when no workflow took it (`triage`), or None.
    classification: Mapped[str | None] = mapped_column(String(64))  # no statement selects by it
    classification_confidence: Mapped[float | None] = mapped_column(Float)
    queue: Mapped[str | None] = mapped_column(String(32), index=True)
    mailbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="SET NULL"), index=True
    )


class DedupeKey(Base):
    __tablename__ = "inbound_dedupe_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    inbound_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarantineDismissal(Base):
    """A quarantined message an admin dismissed: the ledger row and its bytes stay, the
    problems list hides it (shown again with "show dismissed"); deleting the row undoes it."""

    __tablename__ = "inbound_dismissals"

    inbound_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), primary_key=True
    )
    dismissed_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
