"""API shapes of priority keywords."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from hubdesk.api.schemas import Out, Strict


class KeywordIn(Strict):
    word: str = Field(min_length=1, max_length=64)
    level: Literal["critical", "high", "low"]
    language: Literal["da", "en"]
    scope: Literal["subject", "body"] = "subject"


class KeywordOut(Out):
    id: int
    word: str
    level: str
    language: str
    scope: str
    created_at: datetime
