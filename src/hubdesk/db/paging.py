"""Limit/offset pages with a total, for every list route's envelope.

A total is exact unless the caller bounds the count (`count_limit`, raised to the page's
`limit` when smaller): the count then reads at most `offset + count_limit + 1` rows, so a
list longer than `offset + count_limit` says `total = offset + count_limit` with
`total_is_lower_bound` set ("10000+" on a page). A page that is not full ends the list, so
its total is known without a count. The
bound moves with the offset, so a client that pages on while `offset < total` still reaches
the end. Counting every one of a million matching rows is what made the lists slow at scale
(bench/README.md, "At scale").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int
    total_is_lower_bound: bool = False
    """True when the count stopped at its bound: there are more than `total` rows."""


@dataclass(frozen=True)
class Total:
    """A count on its own (a dashboard's number), exact or a lower bound like a page's."""

    total: int
    total_is_lower_bound: bool = False


def paginate(
    session: Session,
    statement: Select[Any],
    *,
    limit: int,
    offset: int,
    count_limit: int | None = None,
    counted: Select[Any] | None = None,
    at_least: Select[Any] | None = None,
) -> Page[Any]:
    """Run `statement` for one page and count its rows without the page bounds (all of them,
    or at most `offset + count_limit`, see the module's docstring); `counted`, when given,
    is the same rows written for counting (no order needed); `at_least`, when given with a
    `count_limit`, selects a subset of them that is cheaper to count: counted first, and if
    it passes the bound, its lower bound is the answer (the rows it selects are all counted
    rows, so the count passes the bound too)."""
    items = session.scalars(statement.limit(limit).offset(offset)).all()
    if 0 < len(items) < limit or (offset == 0 and not items):
        total = Total(offset + len(items))  # the last page: its end is the total
    else:
        bound = count_limit and max(count_limit, limit)
        total = Total(0)
        if at_least is not None and bound:
            total = count_rows(session, at_least, bound, offset=offset)
        if not total.total_is_lower_bound:
            total = count_rows(
                session, statement if counted is None else counted, bound, offset=offset
            )
    return Page(
        items=items,
        total=total.total,
        limit=limit,
        offset=offset,
        total_is_lower_bound=total.total_is_lower_bound,
    )


def count_rows(
    session: Session, statement: Select[Any], count_limit: int | None, *, offset: int = 0
) -> Total:
    """The rows `statement` selects: exact, or, past `offset + count_limit` rows,
    `offset + count_limit` marked a lower bound."""
    unordered = statement.order_by(None)
    if count_limit is None:
        counted = select(func.count()).select_from(unordered.subquery())
        return Total(int(session.scalar(counted) or 0))
    bound = offset + count_limit
    # Only a constant per row: the count needs no column, so an index can answer it alone.
    rows = unordered.with_only_columns(literal(1), maintain_column_froms=True).limit(bound + 1)
    found = int(session.scalar(select(func.count()).select_from(rows.subquery())) or 0)
    return Total(bound, True) if found > bound else Total(found)
