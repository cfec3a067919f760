"""Logging in and out, and the viewer's language.

`GET /login` shows the form (fields `email` and `password`) with a CSRF token bound to a
random pre-login cookie; `POST /login` checks the password through the failed-login limit
(`hubdesk.access.sessions.log_in`), starts a session and sets its cookie (`HttpOnly`,
`SameSite=Lax`, `Secure` over HTTPS or with `HUBDESK_COOKIE_SECURE`), then goes to `next`
when that is a local path. `POST /logout` ends the session. `POST /preferences/language`
remembers the viewer's choice in `users.language`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from hubdesk.access import sessions
from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.db.types import utcnow
from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.web.ui import flash, i18n, labels
from hubdesk.web.ui.routing import ViewerDep, error_page, page_router, public_router
from hubdesk.web.ui.templating import language_of, render

login_router = public_router()
router = page_router()


@login_router.get("/login")
def login_form(request: Request, runtime: RuntimeDep, next: str = "/") -> Response:
    if sessions.browser_session(request, runtime) is not None:
        return RedirectResponse(flash.safe_local_path(next), status_code=303)
    return _form(request, runtime, next=next)


def _form(
    request: Request,
    runtime: Runtime,
    *,
    next: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    nonce = request.cookies.get(sessions.LOGIN_COOKIE_NAME) or sessions.new_login_nonce()
    response = render(
        request,
        "login.html",
        {
            "login_token": sessions.login_form_token(runtime.secret_key, nonce),
            "next": flash.safe_local_path(next),
            "email": email,
            "error": error,
        },
        status=status,
    )
    response.set_cookie(
        sessions.LOGIN_COOKIE_NAME,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=sessions.secure_cookies(request),
    )
    return response


@login_router.post("/login")
def log_in(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    nonce = request.cookies.get(sessions.LOGIN_COOKIE_NAME, "")
    expected = sessions.login_form_token(runtime.secret_key, nonce) if nonce else ""
    _ = i18n.translator(language_of(request))
    if not expected or not sessions.tokens_match(expected, csrf_token):
        return error_page(request, 403, labels.PAGE["login_expired"])
    outcome = sessions.log_in(session, email, password, ip=sessions.client_ip(request))
    if isinstance(outcome, sessions.LoginRefused):
        if outcome.locked_until is not None:
            wait = outcome.locked_until - utcnow()
            message = _(labels.PAGE["locked"], minutes=max(1, -(-int(wait.total_seconds()) // 60)))
            return _form(request, runtime, next=next, email=email, error=message, status=429)
        message = _(labels.PAGE["bad_login"])
        return _form(request, runtime, next=next, email=email, error=message, status=401)
    secret = sessions.open_session(
        session,
        outcome,
        user_agent=request.headers.get("user-agent", ""),
        ip=sessions.client_ip(request),
    )
    response = RedirectResponse(flash.safe_local_path(next), status_code=303)
    response.set_cookie(
        sessions.COOKIE_NAME,
        secret,
        max_age=int(sessions.MAX_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=sessions.secure_cookies(request),
    )
    response.delete_cookie(sessions.LOGIN_COOKIE_NAME, httponly=True, samesite="lax")
    return response


@router.post("/logout")
def log_out(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    secret = request.cookies.get(sessions.COOKIE_NAME, "")
    sessions.close_session(session, secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        sessions.COOKIE_NAME, httponly=True, samesite="lax", secure=sessions.secure_cookies(request)
    )
    return response


@router.post("/preferences/language")
def choose_language(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    language: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/",
) -> Response:
    user = users.get_user(session, viewer.user_id)
    users.update_user(session, viewer.principal, user, language=language)
    _ = i18n.translator(language if language in i18n.LANGUAGES else viewer.language)
    return flash.redirect(request, back, _("Language changed."))
