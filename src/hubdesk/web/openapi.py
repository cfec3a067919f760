"""The OpenAPI document, made true: the error answers each API route declares, so that
clients generated from the document work.

Every error body is `{"detail": "<one sentence>"}` (`hubdesk.api.problems`), including 422,
which FastAPI would otherwise declare as its own list of validation errors. Each operation
under /api/v1 (the public health check aside) declares the errors it can answer:

400 the body is not JSON in UTF-8 (operations that take a JSON body)
401 no or bad credentials      403 a permission (or the CSRF token) is missing
404 a path id, an id filter (`?ticket_id=`) or an id the body refers to names nothing
    (operations with a path parameter, an `*_id` query parameter or a body, and `GET /users/me`)
409 a conflict with stored data (operations that write)
413 the body is over its size limit (operations that take a body)
415 the wrong content type (the raw-mail operation)
422 a parameter or body field is invalid            503 the database is unreachable
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PUBLIC_PATHS: Final = frozenset({"/health"})
PROBLEM: Final[dict[str, Any]] = {
    "title": "Problem",
    "description": "Every error answer of the API.",
    "type": "object",
    "properties": {
        "detail": {
            "type": "string",
            "description": "What went wrong and what to change, in one sentence",
        }
    },
    "required": ["detail"],
}
_FASTAPI_ERRORS: Final = ("HTTPValidationError", "ValidationError")


def _answer(description: str, header: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if header is not None:
        answer["headers"] = {header: {"schema": {"type": "string"}}}
    return answer


def errors_for(path: str, method: str, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The error answers an operation can give (`path` without the API prefix)."""
    parameters = operation.get("parameters", ())
    has_path_params = any(p.get("in") == "path" for p in parameters)
    # A filter such as `?ticket_id=` names a row too: 404 when it names nothing.
    has_id_filter = any(
        p.get("in") == "query" and str(p.get("name", "")).endswith("_id") for p in parameters
    )
    has_body = "requestBody" in operation
    errors = {
        "401": _answer(
            "No credentials, or a token that is invalid, expired or revoked", "WWW-Authenticate"
        ),
        "403": _answer("The caller lacks the permission this needs (named in `detail`)"),
        "422": _answer("A parameter or body field is invalid (named in `detail`)"),
        "503": _answer("The database is unreachable; try again later", "Retry-After"),
    }
    if has_path_params or has_id_filter or has_body or path == "/users/me":
        errors["404"] = _answer("What the path (or the body) refers to does not exist")
    if method != "get":
        errors["409"] = _answer("The change conflicts with stored data")
    if has_body and path != "/inbound/raw":
        errors["400"] = _answer("The body is not valid JSON in UTF-8")
    if has_body:
        errors["413"] = _answer("The request body is over its size limit")
    if path == "/inbound/raw":
        errors["415"] = _answer("The body must be sent as Content-Type: message/rfc822")
    return errors


def declare_errors(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Put the error answers into `document` (in place) and return it."""
    for full_path, item in document.get("paths", {}).items():
        path = str(full_path).removeprefix(prefix)
        if not str(full_path).startswith(prefix + "/") or path in PUBLIC_PATHS:
            continue
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            responses.update(errors_for(path, method, operation))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    if "#/components/schemas/HTTPValidationError" not in repr(document.get("paths")):
        for name in _FASTAPI_ERRORS:
            schemas.pop(name, None)
    return document


def install(app: FastAPI, prefix: str) -> None:
    """Serve the corrected document at /openapi.json (built once, on first request)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = declare_errors(document, prefix)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
