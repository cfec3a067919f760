"""Refuse the NUL character (U+0000) in request text, on every path, before a route sees it.

PostgreSQL's text and jsonb cannot hold NUL, so a query parameter or a JSON string holding
one reached the database as an error (500; found by the schemathesis long pass on
PostgreSQL: `GET /api/v1/contacts?email=...%00...`), while SQLite stored it. No text the
helpdesk takes (names, addresses, notes, searches, form fields) has a use for it, so it is
refused on both databases alike, with 422 and a sentence saying where:

- the path and the query string (`%00`, or a raw NUL byte);
- a JSON body (`application/json`, and `+json` types): a JSON string can only hold NUL as
  the escape `\\u0000` (a raw control character is not valid JSON), told apart from an
  escaped backslash followed by the text `u0000`;
- a form body (`application/x-www-form-urlencoded`): `%00`.

Raw mail (`message/rfc822`) and uploads (`multipart/form-data`) are bytes, stored as they
come: NUL is legal there and never reaches a text column unchecked (the mail parser and the
attachment names have their own rules). An ASGI middleware, inside the body size cap, so the
body it reads is already bounded.
"""

from __future__ import annotations

import re
from typing import Final

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ESCAPED_NUL: Final = re.compile(rb"(\\+)u0000")
_PERCENT_NUL: Final = b"%00"


def _json_has_nul(body: bytes) -> bool:
    # An odd run of backslashes before `u0000` is the escape; an even one is escaped
    # backslashes followed by the plain text `u0000`.
    return any(len(m.group(1)) % 2 == 1 for m in _ESCAPED_NUL.finditer(body))


def _where(scope: Scope, content_type: str, body: bytes) -> str | None:
    """Where the request holds a NUL, or None."""
    if "\x00" in str(scope.get("path", "")):
        return "the path"
    query = bytes(scope.get("query_string", b""))
    if _PERCENT_NUL in query or b"\x00" in query:
        return "a query parameter"
    if content_type == "application/json" or content_type.endswith("+json"):
        if _json_has_nul(body):
            return "the JSON body"
    elif content_type == "application/x-www-form-urlencoded" and _PERCENT_NUL in body:
        return "a form field"
    return None


def _checks_body(content_type: str) -> bool:
    return (
        content_type == "application/json"
        or content_type.endswith("+json")
        or content_type == "application/x-www-form-urlencoded"
    )


class NulGuard:
    """Answer 422 to a request whose text holds NUL (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, api_prefix: str) -> None:
        self.app = app
        self.api_prefix = api_prefix
        """Paths under it are answered in JSON (`{"detail": ...}`), the others in text."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        buffered: list[Message] = []
        body = b""
        if _checks_body(content_type):
            while True:
                message = await receive()
                buffered.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
        where = _where(scope, content_type, body)
        if where is not None:
            await self._refuse(str(scope.get("path", "")), where)(scope, receive, send)
            return

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    def _refuse(self, path: str, where: str) -> Response:
        detail = (
            f"{where} holds the NUL character (U+0000, %00 or \\u0000), which no text here "
            "may contain; remove it and send the request again"
        )
        if path.startswith(self.api_prefix):
            return JSONResponse({"detail": detail}, status_code=422)
        return PlainTextResponse(detail, status_code=422)
