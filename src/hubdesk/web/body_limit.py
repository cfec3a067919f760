"""The size cap on API request bodies: a body over HUBDESK_MAX_JSON_BYTES is answered 413
before the application (or its JSON parser) sees a byte of it.

An ASGI middleware, so that it runs before FastAPI reads the body. A declared
`Content-Length` over the cap is refused at once; a chunked body is read up to the cap and
refused as soon as it goes over. Bodies the routes stream themselves keep their own limits:
raw mail (`message/rfc822`, MAIL_MAX_MESSAGE_BYTES) and attachment uploads
(`multipart/form-data`).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXEMPT_TYPES = frozenset({"message/rfc822", "multipart/form-data"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimit:
    """Refuse API request bodies over `max_bytes` with 413 `{"detail": ...}`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, prefix: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies(scope):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    def _applies(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            return False
        if not str(scope["path"]).startswith(self.prefix):
            return False
        content_type = Headers(scope=scope).get("content-type", "")
        return content_type.split(";")[0].strip().lower() not in EXEMPT_TYPES

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {
                "detail": f"the request body is larger than {self.max_bytes} bytes "
                "(HUBDESK_MAX_JSON_BYTES); send less, or put large content in an attachment"
            },
            status_code=413,
        )
        await response(scope, receive, send)
