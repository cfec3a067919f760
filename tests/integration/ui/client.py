"""A logged-in browser without a browser: TestClient plus the UI's login and CSRF rules."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from hubdesk.runtime import Runtime
from hubdesk.web.ui import flash
from tests.support import api as support_api

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def make_user(
    runtime: Runtime, groups: Sequence[str], *, name: str = "Agent Smith"
) -> tuple[int, str]:
    """A user in `groups` with the password `PASSWORD`; returns (id, e-mail)."""
    address = f"agent-{secrets.token_hex(4)}@agents.example.com"
    user_id, _token = support_api.make_user(
        runtime, groups, email=address, name=name, password=PASSWORD
    )
    return user_id, address


def flash_of(runtime: Runtime, response: httpx.Response) -> flash.Flash:
    """The one-time message a form post left for the next page."""
    shown = flash.newest(runtime.secret_key, response.cookies)
    assert shown is not None, "the post left no message"
    return shown


def text_of(page: str) -> str:
    """A page's text as a reader sees it: no tags, entities decoded, spaces collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", page))).replace(" :", ":")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class UiClient:
    """Requests as a browser would send them, with the session's cookies kept."""

    client: TestClient
    runtime: Runtime
    csrf: str = ""
    logged_in: bool = False

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(path, follow_redirects=False, **kwargs)
        if response.status_code == 200 and "text/html" in response.headers.get("content-type", ""):
            found = _CSRF.search(response.text)
            if found and self.logged_in:
                self.csrf = found.group(1)
        return response

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        return self.client.post(path, data=form, follow_redirects=False, **kwargs)

    def log_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        token = csrf_of(self.client.get("/login").text)
        response = self.client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token, "next": "/"},
            follow_redirects=False,
        )
        if response.status_code == 303:
            self.logged_in = True
            self.csrf = csrf_of(self.get("/").text)
        return response

    def log_in_as(self, groups: Sequence[str], **kwargs: Any) -> int:
        user_id, email = make_user(self.runtime, groups, **kwargs)
        response = self.log_in(email)
        assert response.status_code == 303, response.text
        return user_id

    def forget_cookies(self) -> None:
        self.client.cookies.clear()
        self.csrf = ""
        self.logged_in = False
