"""API shapes of priority keywords."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import Field

from hubdesk.api.limits import ALNUM_CHAR
from hubdesk.api.schemas import Out, Strict

KEYWORD_PATTERN: Final = ALNUM_CHAR
"""A keyword holds at least one letter or digit (`service.clean_word`)."""


class KeywordIn(Strict):
    word: str = Field(
        min_length=1,
        max_length=64,
        json_schema_extra={"pattern": KEYWORD_PATTERN},
        description="At least one letter or digit",
    )
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
