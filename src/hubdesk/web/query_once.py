"""A query parameter the document declares as one value is given once.

FastAPI takes the last of repeated values (`?offset=x&offset=&offset=0` read as 0), so a
request the document calls invalid (an array where an integer is declared) was answered 200
(found by the schemathesis long pass on PostgreSQL). Each API route refuses a repeated
parameter with 422 unless its document declares that parameter an array (`status`,
`priority` of the ticket list). The declared arrays are read from the app's own OpenAPI
document, once an app.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from fastapi import Request

from hubdesk.errors import ValidationFailed

Templates = list[tuple[re.Pattern[str], dict[str, frozenset[str]]]]


def _is_array(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_array(s) for s in schema.get("anyOf", ()))


def _templates(document: dict[str, Any]) -> Templates:
    """Each path of the document as a pattern, with each method's array query parameters."""
    out = []
    for path, item in document.get("paths", {}).items():
        pattern = re.compile(
            "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", path)
            )
        )
        arrays = {
            method: frozenset(
                p["name"]
                for p in operation.get("parameters", ())
                if p.get("in") == "query" and _is_array(p.get("schema", {}))
            )
            for method, operation in item.items()
        }
        out.append((pattern, arrays))
    return out


def _arrays(request: Request) -> frozenset[str]:
    state = request.app.state
    templates: Templates | None = getattr(state, "query_arrays", None)
    if templates is None:  # read once an app, from its own document
        templates = state.query_arrays = _templates(request.app.openapi())
    path, method = request.url.path, request.method.lower()
    for pattern, arrays in templates:
        if pattern.fullmatch(path) and method in arrays:
            return arrays[method]
    return frozenset()


def single_query_values(request: Request) -> None:
    """A dependency of every API route: 422 for a repeated query parameter that is not an
    array in the route's document."""
    counts = Counter(name for name, _ in request.query_params.multi_items())
    repeated = sorted(name for name, n in counts.items() if n > 1)
    if not repeated:
        return
    arrays = _arrays(request)
    for name in repeated:
        if name not in arrays:
            raise ValidationFailed(
                f"{name}: given {counts[name]} times; this query parameter takes one value"
            )
