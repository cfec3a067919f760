"""Mailboxes: the addresses hubdesk receives for, and optionally an IMAP account to poll.

Credentials are never stored: `password_env` names an environment variable (or a key of
HUBDESK_SECRETS_FILE) that holds the password. The IMAP checkpoint (UIDVALIDITY, last UID),
the poller's lease and the last status (with the server's own words) live on the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow


class Mailbox(Base):
    __tablename__ = "mailboxes"
    __table_args__ = (
        CheckConstraint("processed_action IN ('seen', 'move', 'delete')", name="processed_action"),
        CheckConstraint("oversized_action IN ('leave', 'move')", name="oversized_action"),
        CheckConstraint("state IN ('unknown', 'ok', 'error', 'disabled')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    imap_url: Mapped[str | None] = mapped_column(String(500))
    """`imaps://user@host[:port]/FOLDER` (implicit TLS) or `imap://...` (STARTTLS); never
    contains a password."""
    password_env: Mapped[str | None] = mapped_column(String(200))
    processed_action: Mapped[str] = mapped_column(String(16), default="seen")
    processed_folder: Mapped[str | None] = mapped_column(String(200))
    oversized_action: Mapped[str] = mapped_column(String(16), default="leave")
    oversized_folder: Mapped[str | None] = mapped_column(String(200))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    """UIDVALIDITY and UIDs are unsigned 32-bit (RFC 3501 2.3.1.1): 64-bit columns hold
    every value as it is."""
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    import_from: Mapped[datetime | None]
    """The first poll (and a resync) takes only mail delivered from this moment on (IMAP
    INTERNALDATE); None imports what the folder held already too (`--import-existing`)."""
    lease_holder: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    """The team (a user group) whose tickets this mailbox's mail opens (docs/teams.md)."""

    address_rows: Mapped[list[MailboxAddress]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="MailboxAddress.address"
    )

    @property
    def addresses(self) -> list[str]:
        return [row.address for row in self.address_rows]


class MailboxAddress(Base):
    """An address a mailbox receives for (lowercased); `+tag` sub-addresses match it too."""

    __tablename__ = "mailbox_addresses"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="CASCADE"), index=True
    )
