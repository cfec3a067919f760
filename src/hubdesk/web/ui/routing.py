"""How every UI route authenticates, checks CSRF, and turns errors into pages.

`page_router()` builds the router for logged-in pages: each request first resolves the
session cookie (logged out: a redirect to `/login?next=...`), and each POST must carry the
session's CSRF token in its form (otherwise 403) and must not come from another site by the
browser's own account (`Sec-Fetch-Site`, `Origin`). These run before the route's database
transaction opens.

`UIRoute` maps errors to what a person at a browser should see: a missing or foreign object
is a 404 page, a missing permission a 403 page; a form whose input a service refused
(`ValidationFailed`, `Conflict`) goes back to the page it came from (its `back` field, else
the path without its last segment) with the service's message. That answer is raised as a
`PageAnswer`, so the error still unwinds the request's dependencies and its transaction rolls
back (a returned answer would let the transaction commit half a change).

Long forms (workflows, mailboxes, mail templates) instead come back as their own page with the
values as entered and the service's message next to them (`form_refused`, status 422).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any, Final, NoReturn
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from hubdesk.access.deps import RuntimeDep
from hubdesk.access.sessions import CSRF_FIELD, BrowserSession, browser_session, tokens_match
from hubdesk.api.problems import describe_request_errors
from hubdesk.errors import (
    Conflict,
    DatabaseUnavailable,
    HubdeskError,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    ValidationFailed,
)
from hubdesk.web.ui import flash, i18n, labels, templating

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class LoginRequired(Exception):
    """The request has no live session."""


class CsrfFailed(Exception):
    """A form post without the session's CSRF token, or from another site."""


def current_viewer(request: Request, runtime: RuntimeDep) -> BrowserSession:
    found = browser_session(request, runtime)
    if found is None:
        raise LoginRequired
    return found


ViewerDep = Annotated[BrowserSession, Depends(current_viewer)]


async def check_csrf(request: Request, viewer: ViewerDep) -> None:
    """Every unsafe request carries the session's token in its form, from this origin."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not from_this_site(request):
        raise CsrfFailed
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not isinstance(given, str) or not tokens_match(viewer.csrf_token, given):
        raise CsrfFailed


def from_this_site(request: Request) -> bool:
    """False when the browser says the request came from another site.

    `Sec-Fetch-Site` is the browser's own statement; `Origin` is `null` on our pages (their
    `Referrer-Policy: no-referrer` makes browsers hide it), so only a named origin counts.
    """
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin", "null")
    if origin == "null":
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == request.url.netloc


def page_router() -> APIRouter:
    """A router whose routes need a session, and a CSRF token on every post."""
    return APIRouter(
        route_class=UIRoute,
        include_in_schema=False,
        dependencies=[Depends(current_viewer), Depends(check_csrf)],
    )


def public_router() -> APIRouter:
    return APIRouter(route_class=UIRoute, include_in_schema=False)


class PageAnswer(Exception):
    """A page to answer with instead of an error. Raised, not returned, so that the error
    still passes through the request's dependencies and its transaction rolls back; the
    handler `install` registers sends `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def send_page_answer(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageAnswer)
    return exc.response


class UIRoute(APIRoute):
    """An APIRoute whose errors become pages, redirects or a message on the previous page."""

    def get_route_handler(self) -> Handler:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Exception as exc:
                answer = await answer_for(request, exc)
                if answer is None:
                    raise
                raise PageAnswer(answer) from exc

        return handler


async def answer_for(request: Request, exc: Exception) -> Response | None:
    """What a browser gets for `exc`, or None for errors that are nobody's fault but ours."""
    if isinstance(exc, LoginRequired):
        return to_login(request)
    if isinstance(exc, CsrfFailed):
        return error_page(request, 403, labels.PAGE["csrf"])
    if isinstance(exc, RequestValidationError):
        return await refused(request, describe_request_errors(exc.errors()))
    if isinstance(exc, ValidationFailed | Conflict):
        return await refused(request, i18n.said(templating.language_of(request), exc))
    if isinstance(exc, NotFound):
        return error_page(request, 404, labels.PAGE["not_found"])
    if isinstance(exc, PermissionDenied):
        return error_page(request, 403, labels.PAGE["forbidden"])
    if isinstance(exc, DatabaseUnavailable):
        return error_page(request, 503, labels.PAGE["unavailable"])
    if isinstance(exc, StorageUnavailable):
        return error_page(request, 503, labels.PAGE["store_unavailable"])
    if isinstance(exc, HubdeskError):
        return error_page(request, 500, labels.PAGE["error"])
    return None


def to_login(request: Request) -> RedirectResponse:
    target = templating.here(request) if request.method == "GET" else "/"
    url = "/login" if target == "/" else f"/login?next={quote(target, safe='')}"
    return RedirectResponse(url, status_code=303)


async def refused(request: Request, message: str) -> Response:
    """A refused GET is a 400 page; a refused form goes back to its page with the message."""
    if request.method == "GET":
        return error_page(request, 400, message, translate=False)
    form = await request.form()
    back = form.get("back")
    default = request.url.path.rsplit("/", 1)[0] or "/"
    target = flash.safe_local_path(back if isinstance(back, str) else None, default)
    return flash.redirect(request, target, message, kind="error")


def error_page(request: Request, status: int, message: str, *, translate: bool = True) -> Response:
    return templating.render(
        request,
        "error.html",
        {"status": status, "message": message, "translate": translate},
        status=status,
    )


_NEXT_PROBLEM: Final = re.compile(
    r"; (?=step \d+\b|confidence_threshold |classification_trigger |[a-z_][\w.]*: )"
)
"""Where a service's message starts its next problem: a workflow step (`step 1 (...)`), a
workflow field, or a `field: ...` sentence; a fix such as "...; use one of ..." stays."""


def problems_of(message: str) -> list[str]:
    """A service's message as the list shown next to a form, one problem a line."""
    return [part.strip() for part in _NEXT_PROBLEM.split(message) if part.strip()]


def form_refused(
    request: Request, template: str, context: Mapping[str, Any], message: str
) -> NoReturn:
    """Show the form's page again, as the user filled it in, with the service's message.

    Raised, so the request's transaction rolls back whatever the refused call did."""
    page = templating.render(
        request, template, {**context, "problems": problems_of(message)}, status=422
    )
    raise PageAnswer(page)
