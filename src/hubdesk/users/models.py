"""Users (agents), groups, permission codes and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Lowercased; unique case-insensitively because it is stored folded."""
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    notify_by_email: Mapped[bool] = mapped_column(Boolean, default=True)
    """Master switch: no notification mail at all when off."""
    notify_on_assigned: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_on_customer_reply: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    notify_on_mention: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_on_sla: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Text the reply box appends to one's replies (None: no signature)."""
    available: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Takes automatically assigned tickets (docs/automation.md); an agent away sets False."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    groups: Mapped[list[Group]] = relationship(
        secondary="user_groups", lazy="selectin", order_by="Group.name"
    )


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")

    permissions: Mapped[list[Permission]] = relationship(
        secondary="group_permissions", lazy="selectin", order_by="Permission.code"
    )


class Permission(Base):
    __tablename__ = "permissions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(300), default="")


class UserGroup(Base):
    __tablename__ = "user_groups"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )


class GroupPermission(Base):
    __tablename__ = "group_permissions"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    permission_code: Mapped[str] = mapped_column(
        ForeignKey("permissions.code", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(Base):
    """A bearer token; only its sha256 is stored, with a short prefix for recognition."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64))
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")
