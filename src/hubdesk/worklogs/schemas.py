"""API shapes of worklogs and their totals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from hubdesk.api.limits import MAX_NOTES_CHARS, Id
from hubdesk.api.schemas import Out, Strict


class WorklogCreate(Strict):
    minutes: int = Field(gt=0, le=24 * 60)
    work_date: date | None = None
    description: str = Field(default="", max_length=MAX_NOTES_CHARS)
    billable: bool = True
    billing: Literal["none", "invoice", "prepaid"] = "none"
    invoice_reference: str | None = Field(default=None, max_length=200)
    prepaid_card_id: Id | None = None


class WorklogOut(Out):
    id: int
    ticket_id: int
    user_id: int | None
    work_date: date
    minutes: int
    description: str
    billable: bool
    billing: str
    invoice_reference: str | None
    prepaid_card_id: int | None
    created_at: datetime


class WorklogTotals(Out):
    total_minutes: int
    billable_minutes: int
    prepaid_minutes: int
    count: int
