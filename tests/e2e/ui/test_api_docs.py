"""`/docs` in Chromium with every host but loopback blocked: Swagger UI comes from the
installed package, renders the operations, asks no other host for anything, and keeps to
its Content-Security-Policy."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.e2e.ui.accessibility import assert_accessible

pytestmark = pytest.mark.e2e
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")


def test_docs_render_offline_from_the_installed_package(browser: Browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    blocked: list[str] = []
    console: list[str] = []

    def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            blocked.append(url)
            route.abort("internetdisconnected")

    try:
        context.route("**/*", only_loopback)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda msg: console.append(msg.text))
        answer = page.goto(f"{server}/docs")
        assert answer is not None
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy
        assert "https:" not in policy
        operations = page.locator(".opblock")
        expect(operations.first).to_be_visible(timeout=20_000)
        assert operations.count() > 20
        expect(page.locator("#swagger-ui")).to_contain_text("/api/v1/tickets/{ticket_id}")
        page.locator(".opblock-summary-path", has_text="/api/v1/tickets/{ticket_id}").first.click()
        expect(page.locator(".opblock.is-open").first).to_be_visible()
        assert blocked == []
        assert errors == []
        assert [m for m in console if "Content Security Policy" in m] == []
        assert_accessible(page)
        redoc = page.goto(f"{server}/redoc")
        assert redoc is not None
        assert redoc.url == f"{server}/docs"
    finally:
        context.close()
