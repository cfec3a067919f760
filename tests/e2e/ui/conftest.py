"""The browser tests' world: a real uvicorn serving the app on a free loopback port, against a
fresh SQLite database per test, and one Chromium for the whole session.

Chromium is Debian's `/usr/bin/chromium`, driven by Playwright through `executable_path`;
no browser is ever downloaded. Screenshots go to `$HUBDESK_ARTIFACTS_DIR/screenshots/`
(a temporary directory when the variable is unset).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Dialog, Page, Playwright, expect, sync_playwright
from sqlalchemy import select

from hubdesk.config import Settings
from hubdesk.runtime import Runtime
from hubdesk.users.models import User
from hubdesk.web.app import create_app
from hubdesk.web.ui.i18n import catalog
from tests.integration.ui.client import PASSWORD, make_user
from tests.support.databases import Templates

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
]
OUR_CONFIRMS = (
    "Merge this ticket",
    "Run this message",
    "Delete the view",
    "Cancel this prepaid card",
    "Revoke this token",
)
OUR_CONFIRMS += tuple(  # the same questions in Danish
    danish.split("{")[0]
    for english, danish in catalog("da").items()
    if english.startswith(OUR_CONFIRMS) and "?" in english and danish.split("{")[0]
)

pytestmark = pytest.mark.e2e

PATIENCE_MS = 60_000
"""How long an action, a navigation or an `expect` may wait: a deadline against a hang, not a
speed target. 10 s was too short with the machine at a load of 36 on 2 cores (8 browser tests
of one run timed out on a sign-in click or a page load, and passed alone)."""
expect.set_options(timeout=PATIENCE_MS)


@pytest.fixture
def settings(templates: Templates, tmp_path: Path) -> Settings:
    """Browser tests run on SQLite only: they are about the pages, not the database."""
    return Settings(
        database_url=templates.sqlite_copy(tmp_path / "hubdesk.db"),
        data_dir=tmp_path / "data",
        secret_key="browser-test-key-" + "x" * 32,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    """The app under a real uvicorn on 127.0.0.1:<free port>; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(runtime.settings, runtime=runtime),
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    # A deadline against a hang, not a speed target: generous for a busy shared machine.
    deadline = time.monotonic() + 60
    while not served.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 60 s"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)
    sock.close()


@dataclass
class Watch:
    """What the pages did that they should not: dialogs they opened, errors they threw."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Browser, watch: Watch, server: str) -> Iterator[Page]:
    """A fresh browser context's page. It takes `server` so that it is closed before the
    server stops: a page left open holds its connections (a live ticket's event stream),
    and uvicorn then waits its whole graceful-shutdown timeout for them."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(PATIENCE_MS)
    opened = context.new_page()

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        if dialog.type == "confirm" and dialog.message.startswith(OUR_CONFIRMS):
            dialog.accept()
        else:
            dialog.dismiss()

    opened.on("dialog", on_dialog)
    opened.on("pageerror", lambda error: watch.errors.append(str(error)))
    opened.on(
        "console",
        lambda msg: (
            watch.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    yield opened
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    base = os.environ.get("HUBDESK_ARTIFACTS_DIR") or tempfile.mkdtemp(prefix="hubdesk-artifacts-")
    folder = Path(base) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def agent(runtime: Runtime) -> str:
    """An agent's e-mail (password `PASSWORD`)."""
    return make_user(runtime, ["agents"], name="Agnes Agent")[1]


@pytest.fixture
def admin(runtime: Runtime) -> str:
    return make_user(runtime, ["admins"], name="Ada Admin")[1]


def pwned(page: Page) -> list[Any]:
    """The payloads' flag in every frame of the page (None where it was never set)."""
    return [frame.evaluate("() => window.__pwned ?? null") for frame in page.frames]


LANGUAGES = ("en", "da")
"""The UI's languages: a test of a daily task takes `language` and runs in each."""


@dataclass(frozen=True)
class Words:
    """The texts a page shows in one language: `words("Ticket saved")` is the English
    message itself, or its Danish from `locale/da.json`; a message without a Danish
    translation fails the test (it would be English on a Danish page)."""

    language: str

    def __call__(self, message: str, **fields: Any) -> str:
        text = message
        if self.language != "en":
            found = catalog(self.language).get(message)
            assert found is not None, f"no {self.language} translation of {message!r}"
            text = found
        return text.format(**fields) if fields else text


def shot(name: str, language: str) -> str:
    """A screenshot's file name: `name.png` in English, `name-da.png` in Danish."""
    return f"{name}.png" if language == "en" else f"{name}-{language}.png"


def speak(runtime: Runtime, email: str, language: str) -> Words:
    """Make `email`'s user read the UI in `language` (`users.language`, as My account sets
    it), before they sign in; returns that language's words."""
    with runtime.db.transaction() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        user.language = language
    return Words(language)


_ENGLISH_LEFT = """([messages, ignore]) => {
  const known = new Set(messages);
  const found = [];
  const skip = [
    "textarea, pre, iframe, script, style, code",
    ".entry .text, .mail-body",  // what people wrote
    "#top-language, #ac-language, #e-language, #u-language",  // languages in their own names
    ...ignore,
  ].join(", ");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim().replace(/\\s+/g, " ");
    if (text && known.has(text) && !node.parentElement.closest(skip)) found.push(text);
  }
  const labelled = "[aria-label], [placeholder], [title], input[type=submit]";
  for (const el of document.querySelectorAll(labelled)) {
    for (const value of [el.getAttribute("aria-label"), el.getAttribute("placeholder"),
                         el.getAttribute("title"), el.type === "submit" ? el.value : null]) {
      if (value && known.has(value.trim())) found.push(value.trim());
    }
  }
  return found;
}"""


def assert_no_english(page: Page, words: Words, *, data: str = "") -> None:
    """On a Danish page, no text (nor label, placeholder or title) is an English message of
    the catalog whose Danish differs: each such text is a message shown untranslated.
    `data` is a CSS selector of what users typed that may be English words (keywords)."""
    if words.language == "en":
        return
    messages = [m for m, da in catalog(words.language).items() if m != da and "{" not in m]
    left = page.evaluate(_ENGLISH_LEFT, [messages, [data] if data else []])
    assert left == [], f"English on a Danish page {page.url}: {sorted(set(left))}"
