"""`/account` ("My account"): one's own name, language and reply signature, which events mail
you, the e-mail address (changed only once confirmed from the new address) and the password
(the current one is needed). API tokens are `token_pages`.

Every form goes through `hubdesk.users.service.update_user` as `PATCH /api/v1/users/{id}`
does for oneself (the signature is `users.signature`, which the reply box appends); the
e-mail change is `hubdesk.users.email_change`. A refused form comes back as typed, with the
reason next to that form (422). A new password ends every session of the user, this one
included, so the answer is the sign-in page.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.outbox import email_change
from hubdesk.users import service as users
from hubdesk.users.models import User
from hubdesk.web.ui import flash, forms, i18n, labels
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.web.ui.ticket_forms import PostedForm

router = page_router()
EVENTS: Final = tuple(labels.NOTIFY_EVENT.items())


@router.get("/account")
def account_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    user = users.get_user(session, viewer.user_id)
    return render(request, "account.html", _context(user, None, {}))


@router.post("/account/profile")
def save_profile(
    request: Request, session: SessionDep, viewer: ViewerDep, form: PostedForm
) -> Response:
    user = users.get_user(session, viewer.user_id)
    values = {key: form.get(key, "") for key in ("name", "language", "signature")}
    if not values["name"].strip():
        _refuse(request, user, "profile", values, "name must not be empty")
    try:
        users.update_user(
            session,
            viewer.principal,
            user,
            name=values["name"],
            language=values["language"],
            signature=values["signature"],
        )
    except ValidationFailed as exc:
        _refuse(request, user, "profile", values, i18n.said(language_of(request), exc))
    _ = i18n.translator(user.language)
    return flash.redirect(request, "/account", _("Your details were saved."))


@router.post("/account/notifications")
def save_notifications(
    request: Request, session: SessionDep, viewer: ViewerDep, form: PostedForm
) -> Response:
    user = users.get_user(session, viewer.user_id)
    users.update_user(
        session,
        viewer.principal,
        user,
        notify_by_email=forms.checked(form.get("notify_by_email")),
        notify_on_assigned=forms.checked(form.get("notify_on_assigned")),
        notify_on_customer_reply=forms.checked(form.get("notify_on_customer_reply")),
        notify_on_mention=forms.checked(form.get("notify_on_mention")),
        notify_on_sla=forms.checked(form.get("notify_on_sla")),
    )
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, "/account", _("Your notification choices were saved."))


@router.post("/account/email")
def ask_email_change(
    request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep, form: PostedForm
) -> Response:
    user = users.get_user(session, viewer.user_id)
    values = {"new_email": form.get("new_email", "")}
    try:
        email_change.request_change(
            session,
            runtime,
            viewer.principal,
            user,
            new_email=values["new_email"],
            current_password=form.get("current_password", ""),
            link_base=runtime.settings.public_url or str(request.base_url).rstrip("/"),
            now=utcnow(),
        )
    except (ValidationFailed, Conflict) as exc:
        _refuse(request, user, "email", values, i18n.said(language_of(request), exc))
    _ = i18n.translator(language_of(request))
    message = _(
        "We mailed a link to {email}. Your address changes when you open it.",
        email=users.normalize_email(values["new_email"]),
    )
    return flash.redirect(request, "/account", message)


@router.get("/account/email/confirm")
def email_change_page(
    request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep, token: str = ""
) -> Response:
    """The link's page: which address becomes yours, and a button that makes it so (opening
    a link changes nothing: mail scanners open links too)."""
    user = users.get_user(session, viewer.user_id)
    if not token:
        return render(request, "account_email.html", {"token": "", "old": user.email, "new": ""})
    user_id, old, new = email_change.read_token(runtime.secret_key, token[:2000], utcnow())
    if user_id != user.id or user.email != old:
        email_change.confirm_change(
            session, viewer.principal, user, token, secret_key=runtime.secret_key, now=utcnow()
        )
    return render(request, "account_email.html", {"token": token[:2000], "old": old, "new": new})


@router.post("/account/email/confirm")
def confirm_email_change(
    request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep, form: PostedForm
) -> Response:
    user = users.get_user(session, viewer.user_id)
    email_change.confirm_change(
        session,
        viewer.principal,
        user,
        form.get("token", "")[:2000],
        secret_key=runtime.secret_key,
        now=utcnow(),
    )
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, "/account", _("Your e-mail address is now {email}.", email=user.email)
    )


@router.post("/account/password")
def change_password(
    request: Request, session: SessionDep, viewer: ViewerDep, form: PostedForm
) -> Response:
    user = users.get_user(session, viewer.user_id)
    new, again = form.get("password", ""), form.get("password_again", "")
    if new != again:
        _refuse(request, user, "password", {}, "the new password and its repetition differ")
    try:
        users.update_user(
            session,
            viewer.principal,
            user,
            password=new,
            current_password=form.get("current_password", ""),
        )
    except ValidationFailed as exc:
        _refuse(request, user, "password", {}, i18n.said(language_of(request), exc))
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, "/login", _("Your password was changed. Sign in with the new one.")
    )


def _context(user: User, section: str | None, values: dict[str, str]) -> dict[str, Any]:
    shown = {
        "name": user.name,
        "language": user.language,
        "signature": user.signature or "",
        "new_email": "",
    }
    return {
        "user": user,
        "values": {**shown, **values},
        "section": section,
        "events": EVENTS,
        "problems": [],
    }


def _refuse(
    request: Request, user: User, section: str, values: dict[str, str], message: str
) -> None:
    form_refused(request, "account.html", _context(user, section, values), message)
