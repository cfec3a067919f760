"""Browser sessions of the agent UI, and login attempts for the failed-login limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow


class UserSession(Base):
    """A logged-in browser. Only the sha256 of the cookie's secret is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "attempted_at"),
        Index("ix_login_attempts_ip_at", "ip", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64), default="")
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_checked: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """False when the attempt was refused by a lock without looking at the password."""


class LoginLockReset(Base):
    """An account's login locks lifted (an admin's Unlock, `hubdesk user set-password`):
    failures before `reset_at` no longer count against the account."""

    __tablename__ = "login_lock_resets"
    __table_args__ = (Index("ix_login_lock_resets_email_at", "email", "reset_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    reset_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


class FormPost(Base):
    """A form of the UI that was sent: its one-time token (rendered into the form) and the
    page the first post led to, so that a second post of the same form (a double click, a
    reload) creates nothing and leads to the same page (`hubdesk.web.ui.once`)."""

    __tablename__ = "ui_form_posts"
    __table_args__ = (Index("ix_ui_form_posts_created_at", "created_at"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    result_url: Mapped[str] = mapped_column(String(500), default="")
