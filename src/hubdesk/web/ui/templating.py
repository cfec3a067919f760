"""Rendering pages: one Jinja2 environment with autoescape on for every template.

Nothing from mail is ever marked safe here: values reach the HTML escaped. The only template
that outputs markup from mail is `mail_frame.html`, and only the sanitiser's output, served
from the sandboxed frame route (`hubdesk.web.ui.mail_frame`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from hubdesk import __version__
from hubdesk.access.sessions import BrowserSession
from hubdesk.runtime import Runtime
from hubdesk.tickets.attachments import MAX_UPLOAD_BYTES
from hubdesk.web.ui import flash, i18n, labels, once, reasons

MAX_TEXT = 100_000
"""Characters of one text (a mail body, a comment) shown on a page; the rest is cut."""


@cache
def shared_environment() -> Environment:
    """The environment every app of this process renders with: its globals and filters
    are the same for every app, so templates compiled once serve them all (a test process
    builds hundreds of apps; the first render of a page costs 0.05-0.2 s of compiling)."""
    return build_environment()


def build_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hubdesk.web.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        labels=labels,
        minutes=labels.minutes_text,
        version=__version__,
        languages=i18n.LANGUAGE_NAMES,
        max_text=MAX_TEXT,
        json_text=json_text,
        ticket_refs=ticket_refs,
        why_here=reasons.why_here,
        new_form_token=once.new_token,
        max_upload_mb=MAX_UPLOAD_BYTES // (1024 * 1024),
    )
    env.filters["short"] = shorten
    return env


SHORT_TEXT: Final = 160
"""How much of a subject a list shows; the ticket page shows all of it."""


def shorten(text: str | None, limit: int = SHORT_TEXT) -> str:
    """`text` cut to `limit` characters with an ellipsis, for lists (the CSS clamps it to
    two lines as well)."""
    value = text or ""
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


_TICKET_NUMBER: Final = re.compile(r"(TKT-\d{8}-\d{3,})")


def ticket_refs(text: str) -> list[tuple[str, str | None]]:
    """`"merged into TKT-20250101-001."` -> its pieces, each ticket number marked, so a
    template can link the numbers and escape everything (no markup is built here)."""
    parts = _TICKET_NUMBER.split(text)
    return [(part, part if i % 2 else None) for i, part in enumerate(parts) if part]


def json_text(value: Any) -> str:
    """A stored JSON value (a workflow step's result) as compact text, escaped like any other
    text when it is output."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def viewer_of(request: Request) -> BrowserSession | None:
    found: BrowserSession | None = getattr(request.state, "browser_session", None)
    return found


def language_of(request: Request) -> str:
    viewer = viewer_of(request)
    if viewer is not None and viewer.language in i18n.LANGUAGES:
        return viewer.language
    return i18n.language_from_header(request.headers.get("accept-language"))


def here(request: Request) -> str:
    """This page's local URL (path and query), for forms that return to it."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """The page `template` for this request's user, in their language, with any message."""
    env: Environment = request.app.state.ui_templates
    runtime: Runtime = request.app.state.runtime
    viewer = viewer_of(request)
    language = language_of(request)
    waiting = flash.pending(request)
    values: dict[str, Any] = {
        "viewer": viewer,
        "can": (viewer.principal.can if viewer is not None else (lambda _code: False)),
        "csrf_token": viewer.csrf_token if viewer is not None else "",
        "lang": language,
        "_": i18n.translator(language),
        "_n": i18n.plural_translator(language),
        "fmt": i18n.DateFormat(language, runtime.settings.tz),
        "flash": waiting,
        "here": here(request),
        "path": request.url.path,
    }
    values.update(context or {})
    body = env.get_template(template).render(values)
    response = HTMLResponse(body, status_code=status)
    response.headers["Cache-Control"] = "private, no-store"
    flash.forget(request, response)
    return response
