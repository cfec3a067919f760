"""One-time messages after a form post ("Reply added"), carried by a signed cookie.

A form post answers with a redirect (post/redirect/get); the message rides along in a short-
lived cookie signed with the secret key, is shown once on the next page, and is then deleted.
The text is always rendered escaped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

from fastapi.responses import RedirectResponse
from starlette.requests import Request
from starlette.responses import Response

from hubdesk.access.sessions import secure_cookies

COOKIE: Final = "hubdesk_flash"
MAX_TEXT: Final = 2000
Kind = Literal["ok", "error"]


@dataclass(frozen=True, slots=True)
class Flash:
    kind: Kind
    text: str


def _sign(secret_key: str, payload: bytes) -> str:
    return hmac.new(secret_key.encode(), b"flash:" + payload, hashlib.sha256).hexdigest()


def encode(secret_key: str, flash: Flash) -> str:
    payload = json.dumps({"k": flash.kind, "t": flash.text[:MAX_TEXT]}).encode()
    data = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return data + "." + _sign(secret_key, payload)


def decode(secret_key: str, value: str | None) -> Flash | None:
    if not value or "." not in value:
        return None
    data, _, mac = value.rpartition(".")
    try:
        payload = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except ValueError:
        return None
    if not hmac.compare_digest(_sign(secret_key, payload), mac):
        return None
    loaded = json.loads(payload)
    kind: Kind = "error" if loaded.get("k") == "error" else "ok"
    return Flash(kind, str(loaded.get("t", "")))


def safe_local_path(value: str | None, default: str = "/") -> str:
    """`value` when it is a path on this site (never `//host` or a scheme), else `default`."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(c in value for c in "\r\n\t\\"):
        return default
    return value


def redirect(
    request: Request, url: str, message: str | None = None, *, kind: Kind = "ok"
) -> RedirectResponse:
    """A 303 to a local `url`, carrying `message` to the next page."""
    response = RedirectResponse(safe_local_path(url), status_code=303)
    if message:
        secret_key: str = request.app.state.runtime.secret_key
        response.set_cookie(
            COOKIE,
            encode(secret_key, Flash(kind, message)),
            max_age=60,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(request),
        )
    return response


def pending(request: Request) -> Flash | None:
    """The message waiting for this page (see `forget`)."""
    secret_key: str = request.app.state.runtime.secret_key
    return decode(secret_key, request.cookies.get(COOKIE))


def forget(request: Request, response: Response) -> None:
    """Delete the shown message from the browser."""
    if COOKIE in request.cookies:
        response.delete_cookie(
            COOKIE, httponly=True, samesite="lax", secure=secure_cookies(request)
        )
