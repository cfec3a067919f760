"""`/account/tokens`: one's own API tokens: create (the secret is shown once), list with
their last use, revoke.

Through `hubdesk.users.service.create_token` and `revoke_token`, as `/api/v1/tokens` does;
only the token's hash is stored. The answer that shows a new secret is the post's own page
(no redirect, `Cache-Control: no-store`), so the secret is never in a URL, a cookie or the
history; sending the same form again creates no second token (`hubdesk.web.ui.once`), and
the page's script sends a form once however often its button is clicked.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import SessionDep
from hubdesk.db.types import utcnow
from hubdesk.errors import NotFound, ValidationFailed
from hubdesk.users import service as users
from hubdesk.users.models import ApiToken
from hubdesk.web.ui import flash, forms, i18n, once
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.web.ui.ticket_forms import PostedForm

router = page_router()
MAX_TOKENS = 200


@router.get("/account/tokens")
def tokens_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    return render(request, "tokens.html", _context(session, viewer.user_id, {}))


@router.post("/account/tokens")
def create_token(
    request: Request, session: SessionDep, viewer: ViewerDep, form: PostedForm
) -> Response:
    values = {"name": form.get("name", ""), "expires_on": form.get("expires_on", "")}
    _ = i18n.translator(language_of(request))
    claim = once.claim(session, viewer.user_id, form.get(once.FIELD))
    if claim.repeat is not None:
        message = _("This form was sent already; its token was shown on the first answer.")
        return flash.redirect(request, claim.repeat, message)
    user = users.get_user(session, viewer.user_id)
    try:
        expires = forms.optional_date(values["expires_on"], "expires_on")
        token, secret = users.create_token(
            session,
            viewer.principal,
            user,
            name=values["name"],
            expires_at=datetime.combine(expires, time.max, UTC) if expires else None,
        )
    except ValidationFailed as exc:
        form_refused(
            request,
            "tokens.html",
            _context(session, user.id, values),
            i18n.said(language_of(request), exc),
        )
    claim.finish("/account/tokens")
    context = _context(session, user.id, {}) | {"created": token, "secret": secret}
    return render(request, "tokens.html", context, status=201)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != viewer.user_id:
        raise NotFound(f"token {token_id} not found")
    users.revoke_token(session, viewer.principal, token)
    _ = i18n.translator(language_of(request))
    message = _("Token {prefix}… revoked.", prefix=token.token_prefix)
    return flash.redirect(request, "/account/tokens", message)


def _context(session: Session, user_id: int, values: dict[str, str]) -> dict[str, Any]:
    rows = session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        .limit(MAX_TOKENS)
    ).all()
    now = utcnow()
    return {
        "tokens": [(t, _state(t, now)) for t in rows],
        "values": {"name": "", "expires_on": "", **values},
        "problems": [],
        "created": None,
        "secret": None,
    }


def _state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"
