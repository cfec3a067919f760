"""Limit/offset pages with a total, for every list route's envelope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int


def paginate(session: Session, statement: Select[Any], *, limit: int, offset: int) -> Page[Any]:
    """Run `statement` for one page and count its rows without the page bounds."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    items = session.scalars(statement.limit(limit).offset(offset)).all()
    return Page(items=items, total=total or 0, limit=limit, offset=offset)
