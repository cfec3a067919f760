"""One-time messages after a form post ("Reply added"), carried by a signed cookie.

A form post answers with a redirect (post/redirect/get); the message rides along in a short-
lived cookie signed with the secret key, is shown once on the next page, and is then deleted.
The text is always rendered escaped.

Each message has a cookie of its own name (`hubdesk_flash_<random>`), and a page deletes only
the cookies its request carried. With one shared name, a double click lost the result: the
browser abandons the first post's page load, but that load's answer still arrives and deletes
the cookie, after the second post had set its message there. The newest message is shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

from fastapi.responses import RedirectResponse
from starlette.requests import Request
from starlette.responses import Response

from hubdesk.access.sessions import secure_cookies

COOKIE: Final = "hubdesk_flash"
"""The prefix of every message cookie's name (the bare name is an older release's)."""
MAX_TEXT: Final = 2000
Kind = Literal["ok", "error"]


@dataclass(frozen=True, slots=True)
class Flash:
    kind: Kind
    text: str


def _sign(secret_key: str, payload: bytes) -> str:
    return hmac.new(secret_key.encode(), b"flash:" + payload, hashlib.sha256).hexdigest()


def encode(secret_key: str, flash: Flash) -> str:
    stamp = time.time_ns()
    payload = json.dumps({"k": flash.kind, "t": flash.text[:MAX_TEXT], "at": stamp}).encode()
    data = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return data + "." + _sign(secret_key, payload)


def decode(secret_key: str, value: str | None) -> Flash | None:
    stamped = _decode(secret_key, value)
    return stamped[1] if stamped is not None else None


def _decode(secret_key: str, value: str | None) -> tuple[int, Flash] | None:
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
    stamp = loaded.get("at")
    return (stamp if isinstance(stamp, int) else 0), Flash(kind, str(loaded.get("t", "")))


def _ours(name: str) -> bool:
    return name == COOKIE or name.startswith(COOKIE + "_")


def newest(secret_key: str, cookies: Mapping[str, str]) -> Flash | None:
    """The newest genuine message among `cookies` (a request's, or a response's)."""
    found = [_decode(secret_key, value) for name, value in cookies.items() if _ours(name)]
    stamped = [item for item in found if item is not None]
    return max(stamped, key=lambda item: item[0])[1] if stamped else None


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
            f"{COOKIE}_{secrets.token_hex(6)}",
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
    return newest(secret_key, request.cookies)


def forget(request: Request, response: Response) -> None:
    """Delete the messages this request carried (and only those) from the browser."""
    for name in request.cookies:
        if _ours(name):
            response.delete_cookie(
                name, httponly=True, samesite="lax", secure=secure_cookies(request)
            )
