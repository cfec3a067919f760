"""Admin: users and groups (`/admin/users`), for holders of `users.manage`.

Creating and changing users goes through `hubdesk.users.service`, which checks the
permission again and writes the audit rows. Groups and their permissions are shown as the
migrations seeded them. A user locked out by failed sign-ins shows "locked until ..." in
the list and on their page, with an Unlock button (`hubdesk.users.login_locks`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from sqlalchemy import select
from starlette.responses import Response

from hubdesk.access.deps import SessionDep
from hubdesk.db.types import utcnow
from hubdesk.users import login_locks
from hubdesk.users import service as users
from hubdesk.users.models import Group, User
from hubdesk.users.permissions import USERS_MANAGE
from hubdesk.web.ui import flash, forms, i18n
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of, render

router = page_router()
GroupsField = Annotated[list[str] | None, Form()]


@router.get("/admin/users")
def user_list(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    viewer.principal.require(USERS_MANAGE)
    rows = session.scalars(select(User).order_by(User.name, User.id)).all()
    now = utcnow()
    return render(
        request,
        "admin_users.html",
        {
            "users": rows,
            "locks": {u.id: login_locks.lock_status(session, u.email, now) for u in rows},
            "groups": session.scalars(select(Group).order_by(Group.name)).all(),
        },
    )


@router.post("/admin/users")
def create_user(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    email: Annotated[str, Form()],
    name: Annotated[str, Form()],
    password: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "en",
    groups: GroupsField = None,
) -> Response:
    user = users.create_user(
        session,
        viewer.principal,
        email=email,
        name=name,
        password=password or None,
        groups=groups or [],
        language=language,
    )
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, f"/admin/users/{user.id}", _("User created."))


@router.get("/admin/users/{user_id}")
def user_page(request: Request, user_id: int, session: SessionDep, viewer: ViewerDep) -> Response:
    viewer.principal.require(USERS_MANAGE)
    user = users.get_user(session, user_id)
    return render(
        request,
        "admin_user.html",
        {
            "user": user,
            "lock": login_locks.lock_status(session, user.email, utcnow()),
            "groups": session.scalars(select(Group).order_by(Group.name)).all(),
        },
    )


@router.post("/admin/users/{user_id}/unlock")
def unlock_user(request: Request, user_id: int, session: SessionDep, viewer: ViewerDep) -> Response:
    """Lift the user's failed-login lock (audited as `login_unlocked`)."""
    user = users.get_user(session, user_id)
    login_locks.unlock(session, viewer.principal, user, now=utcnow())
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, f"/admin/users/{user.id}", _("Sign-in lock lifted."))


@router.post("/admin/users/{user_id}")
def update_user(
    request: Request,
    user_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    name: Annotated[str, Form()],
    language: Annotated[str, Form()],
    active: Annotated[str | None, Form()] = None,
    available: Annotated[str | None, Form()] = None,
    password: Annotated[str, Form()] = "",
    current_password: Annotated[str, Form(max_length=1000)] = "",
    groups: GroupsField = None,
) -> Response:
    viewer.principal.require(USERS_MANAGE)
    user = users.get_user(session, user_id)
    users.update_user(
        session,
        viewer.principal,
        user,
        name=name,
        active=forms.checked(active),
        available=forms.checked(available),
        groups=groups or [],
        password=password or None,
        current_password=current_password or None,
        language=language,
    )
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, f"/admin/users/{user.id}", _("User saved."))
