"""API shapes of customers and contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, WithJsonSchema

from hubdesk.api.limits import (
    MAX_LIST_ITEMS,
    MAX_NAME_CHARS,
    MAX_NOTES_CHARS,
    NOT_BLANK,
    Domain,
    EmailAddress,
    Id,
)
from hubdesk.api.schemas import Out, Strict


class CustomerOut(Out):
    id: int
    name: str
    domains: list[str]
    notes: str
    active: bool


class CustomerCreate(Strict):
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, json_schema_extra=NOT_BLANK)
    domains: list[Domain] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    notes: str = Field(default="", max_length=MAX_NOTES_CHARS)
    active: bool = True


class CustomerUpdate(Strict):
    # A PATCH leaves the name out to keep it; it has no null.
    name: Annotated[
        str | None,
        WithJsonSchema(
            {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS, **NOT_BLANK}
        ),
    ] = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)
    domains: list[Domain] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    notes: str | None = Field(default=None, max_length=MAX_NOTES_CHARS)
    active: bool | None = None


class ContactOut(Out):
    id: int
    email: str
    name: str
    customer_id: int | None
    created_at: datetime


class ContactCreate(Strict):
    email: EmailAddress
    name: str = Field(default="", max_length=MAX_NAME_CHARS)
    customer_id: Id | None = None


class ContactUpdate(Strict):
    name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    customer_id: Id | None = None
