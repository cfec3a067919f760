"""`priority_keywords`: one word, its level, language and where it is looked for;
`priority_keyword_state`: one row whose `version` moves on with every change, so a
process's cached keyword set knows when to load again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow

LEVELS = ("critical", "high", "low")
LANGUAGES = ("da", "en")
SCOPES = ("subject", "body")


class PriorityKeyword(Base):
    __tablename__ = "priority_keywords"
    __table_args__ = (
        CheckConstraint("level IN ('critical', 'high', 'low')", name="level"),
        CheckConstraint("language IN ('da', 'en')", name="language"),
        CheckConstraint("scope IN ('subject', 'body')", name="scope"),
        UniqueConstraint("word", "scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(64))
    """Lowercased; matched as a whole word, case-insensitively."""
    level: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(16), default="subject")
    """`subject`: the subject line and the #tags (the spec); `body`: the mail's own text."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PriorityKeywordState(Base):
    __tablename__ = "priority_keyword_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
