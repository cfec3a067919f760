"""Every size limit of the REST API, in one place: request bodies, text fields, integers and
list pages. Schemas and routes import these; docs/configuration.md and the README list them.

Why each is what it is:

- Request bodies: one over HUBDESK_MAX_JSON_BYTES (a setting, 1 MiB by default) is answered
  413 before it is parsed (`hubdesk.web.body_limit`). The raw-mail endpoint
  (`message/rfc822`) and attachment uploads (multipart) keep their own limits.
- Text fields: a ticket description or a comment is a human's text, not a file; 100,000
  characters is some 40 printed pages. Longer material belongs in an attachment.
- `MAX_CUSTOM_FIELDS_BYTES`: custom fields are small facts (an asset tag, a floor); 64 KiB
  of JSON is generous and keeps a list page bounded.
- Integers: every integer the API takes lies in [-(2^31 - 1), 2^31 - 1], the range of the
  databases' INTEGER columns (ids included; PostgreSQL's `integer` is 32 bits), which every
  JSON client reads exactly. A larger number is a 422 naming the field instead of a database
  overflow (a 500). Ids are at least 1.
- Pages: `limit` is at most `MAX_PAGE_LIMIT`; list items carry at most
  `LIST_DESCRIPTION_CHARS` of a ticket's description (the full text is on the ticket).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

import annotated_types
from pydantic import AfterValidator, WithJsonSchema

MAX_SUBJECT_CHARS: Final = 1000
MAX_DESCRIPTION_CHARS: Final = 100_000
MAX_COMMENT_CHARS: Final = 100_000
MAX_CUSTOM_FIELDS_BYTES: Final = 64 * 1024
MAX_NOTES_CHARS: Final = 20_000
MAX_NAME_CHARS: Final = 300
MAX_SHORT_TEXT_CHARS: Final = 1000
MAX_LIST_ITEMS: Final = 100

MAX_INT: Final = 2**31 - 1
MIN_INT: Final = -MAX_INT

DEFAULT_PAGE_LIMIT: Final = 50
MAX_PAGE_LIMIT: Final = 200
LIST_DESCRIPTION_CHARS: Final = 500

Int = Annotated[int, annotated_types.Ge(MIN_INT), annotated_types.Le(MAX_INT)]
"""Any integer the API takes (a query parameter or a body field)."""

Id = Annotated[int, annotated_types.Ge(1), annotated_types.Le(MAX_INT)]
"""A row id, in a path, a query or a body."""

Offset = Annotated[int, annotated_types.Ge(0), annotated_types.Le(MAX_INT)]
"""A page offset."""


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_CUSTOM_FIELDS_BYTES:
        raise ValueError(
            f"at most {MAX_CUSTOM_FIELDS_BYTES} bytes of JSON are allowed; {size} were given"
        )
    return value


CustomFields = Annotated[
    dict[str, Any],
    AfterValidator(_bounded_json),
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": True,
            "description": f"At most {MAX_CUSTOM_FIELDS_BYTES} bytes as compact JSON",
        }
    ),
]
"""A ticket's custom fields: a JSON object of at most MAX_CUSTOM_FIELDS_BYTES."""
