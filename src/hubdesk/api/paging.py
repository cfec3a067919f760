"""The paging query parameters every list route takes (`?limit=&offset=`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from hubdesk.api.limits import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, Offset


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
