"""A canned response: a titled text an agent inserts into a reply or note.

`owner_user_id` set: a personal response, seen and changed by its owner only. Null: a shared
response, seen by every agent, changed by holders of `canned.manage`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hubdesk.db.base import Base
from hubdesk.db.types import utcnow


class CannedResponse(Base):
    __tablename__ = "canned_responses"
    __table_args__ = (Index("ix_canned_responses_owner_title", "owner_user_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
