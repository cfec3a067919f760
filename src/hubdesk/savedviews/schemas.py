"""API shapes of saved views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from hubdesk.api.limits import NOT_SPACE
from hubdesk.api.schemas import Out, Strict
from hubdesk.savedviews.service import FILTER_KEYS

_VALUE: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}


def _not_true_or_false(value: Any) -> Any:
    """A filter value is text, a number or null as declared: pydantic's lax mode would take
    `false` as the number 0 (the schemathesis long pass saved `{"tag": false}` as "0")."""
    if isinstance(value, bool):
        raise ValueError("a filter value is text, a number or null, not true or false")
    return value


Query = Annotated[
    dict[str, Annotated[str | int | None, BeforeValidator(_not_true_or_false)]],
    WithJsonSchema(
        {
            "type": "object",
            "properties": dict.fromkeys(FILTER_KEYS, _VALUE),
            "additionalProperties": False,
            "description": "The ticket list's filters, by the list's own parameter names",
        }
    ),
]


# A name with a visible character (the service collapses spaces); a PATCH leaves it out
# rather than sending null.
_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NOT_SPACE}


class SavedViewIn(Strict):
    name: str = Field(min_length=1, max_length=100, json_schema_extra={"pattern": NOT_SPACE})
    shared: bool = False
    query: Query = Field(default_factory=dict)


class SavedViewPatch(Strict):
    name: Annotated[str | None, WithJsonSchema(_NAME)] = Field(
        default=None, min_length=1, max_length=100
    )
    shared: bool | None = None
    query: Query | None = None


class SavedViewOut(Out):
    id: int
    name: str
    owner_user_id: int
    shared: bool
    query: dict[str, str]
    created_at: datetime
    updated_at: datetime
