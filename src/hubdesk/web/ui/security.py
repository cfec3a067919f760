"""Security headers on every response (RELIABILITY design rule 4).

Pages get a Content-Security-Policy that allows scripts, styles and images from this site
only (no inline script, no inline event handlers, no `javascript:` URLs), frames only from
this site (the sandboxed mail frame), forms posting only here, and no framing of the app by
anyone (`frame-ancestors 'none'` plus `X-Frame-Options: DENY`). Every response gets
`Referrer-Policy: no-referrer` and `nosniff`. A response that set its own policy (the mail
frame, attachment downloads) keeps it. The OpenAPI page `/docs` sets its own policy
(`hubdesk.web.api_docs`); its assets and `/openapi.json` get the shared headers only.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; "
    "connect-src 'self'; manifest-src 'self'"
)
API_DOC_PATHS: Final = ("/docs", "/redoc", "/openapi.json")
SHARED: Final = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding the headers above where a response did not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        with_policy = not path.startswith(API_DOC_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SHARED.items():
                    if name not in headers:
                        headers[name] = value
                if with_policy and "content-security-policy" not in headers:
                    headers["content-security-policy"] = PAGE_POLICY
            await send(message)

        await self.app(scope, receive, send_with_headers)
