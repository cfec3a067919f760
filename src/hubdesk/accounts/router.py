"""`/api/v1/users`, `/api/v1/groups` and `/api/v1/tokens`."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.paging import PagingDep
from hubdesk.api.schemas import ListOf, page_of
from hubdesk.db.paging import paginate
from hubdesk.errors import NotFound
from hubdesk.users import service, teams
from hubdesk.users.models import ApiToken, Group, User
from hubdesk.users.permissions import TICKETS_VIEW, USERS_MANAGE
from hubdesk.users.schemas import (
    GroupCreate,
    GroupOut,
    MeOut,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)

router = APIRouter(tags=["users"])


@router.get("/users", response_model=ListOf[UserOut])
def list_users(
    session: SessionDep, principal: PrincipalDep, paging: PagingDep, active: bool | None = None
) -> ListOf[UserOut]:
    principal.require(TICKETS_VIEW)
    statement = select(User).order_by(User.name, User.id)
    if active is not None:
        statement = statement.where(User.active.is_(active))
    page = paginate(session, statement, limit=paging.limit, offset=paging.offset)
    return page_of(UserOut, page)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, session: SessionDep, principal: PrincipalDep) -> UserOut:
    user = service.create_user(
        session,
        principal,
        email=body.email,
        name=body.name,
        password=body.password,
        groups=body.groups,
        language=body.language,
    )
    return UserOut.model_validate(user)


@router.get("/users/me", response_model=MeOut)
def me(session: SessionDep, principal: PrincipalDep) -> MeOut:
    if principal.user_id is None:
        raise NotFound("the caller is not a user")
    user = service.get_user(session, principal.user_id)
    return MeOut.model_validate(
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "groups": [g.name for g in user.groups],
            "active": user.active,
            "available": user.available,
            "permissions": sorted(principal.permissions),
            "language": user.language,
            "notify_by_email": user.notify_by_email,
            "notify_on_assigned": user.notify_on_assigned,
            "notify_on_customer_reply": user.notify_on_customer_reply,
            "notify_on_mention": user.notify_on_mention,
            "notify_on_sla": user.notify_on_sla,
            "signature": user.signature,
        }
    )


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: Id, session: SessionDep, principal: PrincipalDep) -> UserOut:
    principal.require(TICKETS_VIEW)
    return UserOut.model_validate(service.get_user(session, user_id))


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: Id, body: UserUpdate, session: SessionDep, principal: PrincipalDep
) -> UserOut:
    if principal.user_id != user_id:
        principal.require(USERS_MANAGE)
    user = service.get_user(session, user_id)
    fields = {key: getattr(body, key) for key in body.model_fields_set}
    return UserOut.model_validate(service.update_user(session, principal, user, **fields))


@router.get("/groups", response_model=list[GroupOut])
def list_groups(session: SessionDep, principal: PrincipalDep) -> list[GroupOut]:
    principal.require(TICKETS_VIEW)
    return [GroupOut.model_validate(g) for g in session.scalars(select(Group).order_by(Group.name))]


@router.post("/groups", response_model=GroupOut, status_code=201)
def create_group(body: GroupCreate, session: SessionDep, principal: PrincipalDep) -> GroupOut:
    """A new group without permissions, e.g. a team that mailboxes and tickets name
    (docs/teams.md); users join it through PATCH /users/{id} `groups`."""
    group = teams.create_team(session, principal, name=body.name, description=body.description)
    return GroupOut.model_validate(group)


@router.get("/tokens", response_model=ListOf[TokenOut])
def list_tokens(
    session: SessionDep, principal: PrincipalDep, paging: PagingDep, user_id: Id | None = None
) -> ListOf[TokenOut]:
    """The caller's tokens; with `users.manage`, any user's (or all with no `user_id`)."""
    statement = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if principal.can(USERS_MANAGE):
        if user_id is not None:
            statement = statement.where(ApiToken.user_id == user_id)
    else:
        statement = statement.where(ApiToken.user_id == principal.user_id)
    page = paginate(session, statement, limit=paging.limit, offset=paging.offset)
    return page_of(TokenOut, page)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, session: SessionDep, principal: PrincipalDep) -> TokenCreated:
    owner_id = body.user_id if body.user_id is not None else principal.user_id
    if owner_id is None:
        raise NotFound("no user to create a token for")
    if owner_id != principal.user_id:
        principal.require(USERS_MANAGE)
    owner = service.get_user(session, owner_id)
    token, secret = service.create_token(
        session, principal, owner, name=body.name, expires_at=body.expires_at
    )
    return TokenCreated.model_validate(
        {**TokenOut.model_validate(token).model_dump(), "token": secret}
    )


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != principal.user_id and not principal.can(USERS_MANAGE)):
        raise NotFound(f"token {token_id} not found")
    service.revoke_token(session, principal, token)
    return Response(status_code=204)
