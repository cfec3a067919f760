"""Customers, the e-mail domains that identify them, and their contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubdesk.db import ids
from hubdesk.db.base import Base
from hubdesk.db.types import utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    domain_rows: Mapped[list[CustomerDomain]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="CustomerDomain.domain",
    )

    @property
    def domains(self) -> list[str]:
        return [row.domain for row in self.domain_rows]


class CustomerDomain(Base):
    """A sender domain that belongs to exactly one customer (lowercased)."""

    __tablename__ = "customer_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )


class Contact(Base):
    """A person who writes to us; e-mail stored lowercased, so unique case-insensitively."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# a SQLite bulk batch numbers the contacts it makes (`customers.service._add_numbered`)
ids.register(Contact)
