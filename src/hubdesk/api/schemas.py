"""Shapes shared by every API route: the list envelope and the request-body rules.

No web framework here: the domain services that the mail pipeline runs import these
shapes, and `hubdesk ingest` or `hubdesk worker` should not load FastAPI for them (the
query parameters of paging are `hubdesk.api.paging`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hubdesk.api.limits import (
    check_boolean,
    check_time,
)
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


class Strict(BaseModel):
    """Request bodies refuse unknown keys, so a typo gets a 422 instead of being ignored;
    their booleans take only `true` and `false`, their times only ISO 8601 text, as the
    document declares (`api.limits.check_boolean`, `check_time`)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _declared_json_types(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, check in _json_checks(cls).items():
                if key in data:
                    try:
                        check(data[key])
                    except ValueError as exc:
                        raise ValueError(f"{key}: {exc}") from None
        return data


_CHECKS: dict[type[BaseModel], dict[str, Callable[[Any], Any]]] = {}


def _json_checks(model: type[BaseModel]) -> dict[str, Callable[[Any], Any]]:
    """The body keys of `model` whose fields are booleans or times (optional or not), with
    their check; worked out once a model."""
    if model not in _CHECKS:
        found: dict[str, Callable[[Any], Any]] = {}
        for name, field in model.model_fields.items():
            kinds = set(get_args(field.annotation)) or {field.annotation}
            kinds.discard(type(None))
            if kinds == {bool}:
                found[field.alias or name] = check_boolean
            elif kinds == {datetime}:
                found[field.alias or name] = check_time
        _CHECKS[model] = found
    return _CHECKS[model]


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
