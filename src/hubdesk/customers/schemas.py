"""API shapes of customers and contacts."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from hubdesk.web.schemas import Out, Strict


class CustomerOut(Out):
    id: int
    name: str
    domains: list[str]
    notes: str
    active: bool


class CustomerCreate(Strict):
    name: str = Field(min_length=1, max_length=300)
    domains: list[str] = Field(default_factory=list)
    notes: str = ""
    active: bool = True


class CustomerUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    domains: list[str] | None = None
    notes: str | None = None
    active: bool | None = None


class ContactOut(Out):
    id: int
    email: str
    name: str
    customer_id: int | None
    created_at: datetime


class ContactCreate(Strict):
    email: str = Field(min_length=3, max_length=320)
    name: str = ""
    customer_id: int | None = None


class ContactUpdate(Strict):
    name: str | None = None
    customer_id: int | None = None
