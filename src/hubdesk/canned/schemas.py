"""API shapes of canned responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from hubdesk.api.limits import NOT_BLANK
from hubdesk.api.schemas import Out, Strict
from hubdesk.canned.service import MAX_BODY_CHARS, MAX_TITLE_CHARS


class CannedCreate(Strict):
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS, json_schema_extra=NOT_BLANK)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS, json_schema_extra=NOT_BLANK)
    shared: bool = False
    """Shared with every agent (needs `canned.manage`); otherwise personal to the caller."""


class CannedUpdate(Strict):
    title: str | None = Field(
        default=None, min_length=1, max_length=MAX_TITLE_CHARS, json_schema_extra=NOT_BLANK
    )
    body: str | None = Field(
        default=None, min_length=1, max_length=MAX_BODY_CHARS, json_schema_extra=NOT_BLANK
    )


class CannedOut(Out):
    id: int
    title: str
    body: str
    shared: bool
    owner_user_id: int | None
    created_at: datetime
    updated_at: datetime


class CannedFilled(Out):
    id: int
    ticket_id: int
    text: str
