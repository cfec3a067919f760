"""Shapes shared by every API route: the list envelope and paging parameters."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from hubdesk.api.limits import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, Offset
from hubdesk.db.paging import Page

T = TypeVar("T")


class ListOf(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(
        description="The rows that match. Exact unless `total_is_lower_bound` is true: then "
        "there are more than `total` (a list that bounds its count, such as the ticket list, "
        "stops counting at `offset` + its bound)"
    )
    limit: int
    offset: int
    total_is_lower_bound: bool = Field(
        False, description="True when `total` is a lower bound: the count stopped there"
    )


class Paging(BaseModel):
    limit: int
    offset: int


def paging(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_LIMIT, description=f"At most {MAX_PAGE_LIMIT}")
    ] = DEFAULT_PAGE_LIMIT,
    offset: Annotated[Offset, Query()] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(paging)]


class Strict(BaseModel):
    """Request bodies refuse unknown keys, so a typo gets a 422 instead of being ignored."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


M = TypeVar("M", bound=BaseModel)


def page_of(model: type[M], page: Page[Any]) -> ListOf[M]:
    """The list envelope of one page, each row validated into `model`."""
    return ListOf[model](  # type: ignore[valid-type]
        items=[model.model_validate(row) for row in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        total_is_lower_bound=page.total_is_lower_bound,
    )
