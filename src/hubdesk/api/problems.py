"""Mapping errors to HTTP answers: every error is JSON `{"detail": ...}`.

NotFound -> 404      PermissionDenied -> 403   ValidationFailed -> 422
Conflict -> 409      DatabaseUnavailable -> 503 Unauthenticated -> 401
request validation -> 422 with one readable sentence per problem
an unparsable JSON body -> 400          a full disk (ENOSPC, EDQUOT) -> 503
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hubdesk.errors import (
    Conflict,
    DatabaseUnavailable,
    HubdeskError,
    NotFound,
    PermissionDenied,
    StorageError,
    StorageUnavailable,
    ValidationFailed,
    is_disk_full,
    is_read_only,
)

log = logging.getLogger(__name__)

_FASTAPI_BODY_ERROR = "There was an error parsing the body"
DISK_FULL = "the helpdesk's disk is full; nothing was stored, try again later"
READ_ONLY = "the helpdesk's storage is read-only; nothing was stored, try again later"
STORE_UNAVAILABLE = (
    "the object store that keeps mail and attachments cannot be reached; nothing was "
    "stored, try again later"
)
BAD_BODY = "the request body is not valid JSON in UTF-8; send a JSON object"


class Unauthenticated(HubdeskError):
    """No credentials, or credentials that do not identify an active user."""


class PayloadTooLarge(HubdeskError):
    """The request body is over a size budget."""


class UnsupportedMediaType(HubdeskError):
    """The request body has a content type the route does not take."""


_STATUS: dict[type[HubdeskError], int] = {
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    ValidationFailed: 422,
    DatabaseUnavailable: 503,
    StorageError: 500,
    StorageUnavailable: 503,
}


def status_for(exc: HubdeskError) -> int:
    for kind in type(exc).__mro__:
        if kind in _STATUS:
            return _STATUS[kind]
    return 500


def describe_request_errors(errors: Any) -> str:
    sentences = []
    for error in errors:
        # The first part says where (body, query, path); a body field may itself be "body".
        parts = list(error.get("loc", ()))
        if parts[:1] == ["body"]:
            parts = parts[1:]
        location = ".".join(str(part) for part in parts)
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        sentences.append(f"{location}: {message}" if location else message)
    return "; ".join(sentences)


def install(app: FastAPI) -> None:
    @app.exception_handler(HubdeskError)
    async def _hubdesk_error(_request: Request, exc: HubdeskError) -> JSONResponse:
        if isinstance(exc, DatabaseUnavailable) and is_disk_full(exc):
            log.error("request failed, the disk is full: %s", exc)
            return JSONResponse(
                {"detail": DISK_FULL}, status_code=503, headers={"Retry-After": "60"}
            )
        status = status_for(exc)
        if status >= 500:
            log.error("request failed: %s", exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 503:
            headers = {"Retry-After": "30"}
        # The store's own words name its bucket and internal address: the log keeps them.
        detail = STORE_UNAVAILABLE if isinstance(exc, StorageUnavailable) else str(exc)
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    @app.exception_handler(OSError)
    async def _os_error(_request: Request, exc: OSError) -> JSONResponse:
        if is_disk_full(exc):
            log.error("request failed, the disk is full: %s", exc)
            return JSONResponse(
                {"detail": DISK_FULL}, status_code=503, headers={"Retry-After": "60"}
            )
        if is_read_only(exc):
            log.error("request failed, the storage is read-only: %s", exc)
            return JSONResponse(
                {"detail": READ_ONLY}, status_code=503, headers={"Retry-After": "60"}
            )
        log.exception("request failed: %s", exc)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": describe_request_errors(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 400 and detail == _FASTAPI_BODY_ERROR:
            detail = BAD_BODY
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
