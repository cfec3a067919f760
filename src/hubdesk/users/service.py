"""Users, their groups, API tokens and authentication (writes audit rows, never commits)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, NotFound, ValidationFailed
from hubdesk.text import multi_line, single_line
from hubdesk.users import login_locks
from hubdesk.users.models import ApiToken, Group, Permission, User
from hubdesk.users.permissions import USERS_MANAGE, Principal
from hubdesk.users.secrets import generate_token, hash_password, hash_token, verify_password
from hubdesk.users.session_models import FormPost, LoginAttempt, LoginLockReset, UserSession

MIN_PASSWORD_LENGTH: Final = 10
MAX_SIGNATURE_CHARS: Final = 2000
# Token last-use is written at most this often, so reads do not all become writes.
LAST_USED_RESOLUTION: Final = timedelta(minutes=1)
# The same syntax as `web.limits.EMAIL_PATTERN` declares in the OpenAPI document.
_EMAIL: Final = re.compile(
    r"\A[^@\s<>()\[\],;:\"\\\x00-\x1f\x7f]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\Z"
)


def is_email_syntax(value: str) -> bool:
    """An address the API takes: one local part, one plain domain, no spaces or controls."""
    return bool(_EMAIL.match(value)) and len(value) <= 320


def normalize_email(value: str) -> str:
    email = value.strip(" \t").lower()
    if not is_email_syntax(email):
        raise ValidationFailed(f"{value!r} is not a valid e-mail address")
    return email


def principal_for(user: User) -> Principal:
    codes = frozenset(p.code for g in user.groups for p in g.permissions)
    return Principal(user_id=user.id, email=user.email, permissions=codes)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def groups_by_name(session: Session, names: Iterable[str]) -> list[Group]:
    wanted = list(dict.fromkeys(names))
    found = {g.name: g for g in session.scalars(select(Group).where(Group.name.in_(wanted)))}
    missing = [n for n in wanted if n not in found]
    if missing:
        known = ", ".join(session.scalars(select(Group.name).order_by(Group.name)))
        raise ValidationFailed(f"unknown group {', '.join(missing)}; known groups: {known}")
    return [found[n] for n in wanted]


def create_user(
    session: Session,
    actor: Principal,
    *,
    email: str,
    name: str,
    password: str | None,
    groups: Sequence[str],
    language: str = "en",
) -> User:
    actor.require(USERS_MANAGE)
    email = normalize_email(email)
    if find_user_by_email(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    display = single_line(name, 200)
    if not display:
        raise ValidationFailed("name must not be empty")
    user = User(
        email=email,
        name=display,
        password_hash=hash_password(password) if password else None,
        language=_check_language(language),
    )
    user.groups = groups_by_name(session, groups)
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="user",
        entity_id=user.id,
        action="created",
        changes=audit.created({"email": email, "name": display, "groups": list(groups)}),
    )
    return user


def update_user(
    session: Session,
    actor: Principal,
    user: User,
    *,
    name: str | None = None,
    active: bool | None = None,
    groups: Sequence[str] | None = None,
    password: str | None = None,
    current_password: str | None = None,
    language: str | None = None,
    notify_by_email: bool | None = None,
    notify_on_assigned: bool | None = None,
    notify_on_customer_reply: bool | None = None,
    notify_on_mention: bool | None = None,
    notify_on_sla: bool | None = None,
    signature: str | None = None,
    available: bool | None = None,
) -> User:
    """Change `user`. Changing one's own password needs `current_password` (when one is
    set): a stolen session or token alone cannot take the account over. An admin changing
    someone else's password, and the CLI, need not know it. `signature` "" removes it; the
    `notify_on_*` choices say which events mail the user (`hubdesk.outbox.notify`)."""
    if actor.user_id != user.id or active is not None or groups is not None:
        actor.require(USERS_MANAGE)
    if password is not None and actor.user_id == user.id:
        _check_current_password(user, current_password)
    before = _user_snapshot(user)
    if name is not None:
        user.name = single_line(name, 200) or user.name
    if active is not None:
        user.active = active
    if groups is not None:
        user.groups = groups_by_name(session, groups)
    if language is not None:
        user.language = _check_language(language)
    if notify_by_email is not None:
        user.notify_by_email = notify_by_email
    choices = {
        "notify_on_assigned": notify_on_assigned,
        "notify_on_customer_reply": notify_on_customer_reply,
        "notify_on_mention": notify_on_mention,
        "notify_on_sla": notify_on_sla,
    }
    for column, wanted in choices.items():
        if wanted is not None:
            setattr(user, column, wanted)
    if signature is not None:
        user.signature = _clean_signature(signature)
    if available is not None:
        user.available = available
    changes = audit.changes_between(before, _user_snapshot(user))
    if password is not None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationFailed(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        user.password_hash = hash_password(password)
        changes["password"] = ["(hidden)", "(changed)"]
        # A new password lifts the account's failed-login lock (whoever set it: the user, an
        # admin in the UI or API, `hubdesk user set-password`) ...
        login_locks.clear(
            session, user.email, reason="password", actor_user_id=actor.user_id, now=utcnow()
        )
        # ... and ends every browser session of the user (a stolen one included).
        session.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    if changes:
        session.flush()
        audit.record(
            session, actor, entity_type="user", entity_id=user.id, action="updated", changes=changes
        )
    return user


def _check_current_password(user: User, current_password: str | None) -> None:
    if user.password_hash is None:
        return
    if not current_password:
        raise ValidationFailed.saying(
            "current_password is required to change your own password; send it with the new one"
        )
    if not verify_password(user.password_hash, current_password):
        raise ValidationFailed.saying("current_password is not your current password")


def _user_snapshot(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "active": user.active,
        "groups": [g.name for g in user.groups],
        "language": user.language,
        "notify_by_email": user.notify_by_email,
        "notify_on_assigned": user.notify_on_assigned,
        "notify_on_customer_reply": user.notify_on_customer_reply,
        "notify_on_mention": user.notify_on_mention,
        "notify_on_sla": user.notify_on_sla,
        "signature": user.signature,
        "available": user.available,
    }


def _clean_signature(value: str) -> str | None:
    text = multi_line(value).strip()
    if len(text) > MAX_SIGNATURE_CHARS:
        raise ValidationFailed(f"signature must be at most {MAX_SIGNATURE_CHARS} characters")
    return text or None


def change_email(session: Session, actor: Principal, user: User, new_email: str) -> User:
    """Give `user` the address `new_email` (one's own after confirming it by mail,
    `hubdesk.users.email_change`; anyone's with `users.manage`)."""
    if actor.user_id != user.id:
        actor.require(USERS_MANAGE)
    email = normalize_email(new_email)
    if email == user.email:
        return user
    if find_user_by_email(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    before = user.email
    user.email = email
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="user",
        entity_id=user.id,
        action="updated",
        changes={"email": [before, email]},
    )
    return user


def _check_language(language: str) -> str:
    if language not in ("en", "da"):
        raise ValidationFailed("language must be 'en' or 'da'")
    return language


def create_token(
    session: Session,
    actor: Principal,
    user: User,
    *,
    name: str = "",
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user`; the secret is returned once and only its hash is stored."""
    if actor.user_id != user.id:
        actor.require(USERS_MANAGE)
    if not user.active:
        raise ValidationFailed(f"user {user.email} is not active")
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed.saying("expires_at must be in the future")
    secret = generate_token()
    token = ApiToken(
        user_id=user.id,
        name=single_line(name, 200),
        token_hash=hash_token(secret),
        token_prefix=secret[:10],
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        entity_type="api_token",
        entity_id=token.id,
        action="created",
        changes=audit.created({"user": user.email, "name": token.name, "prefix": secret[:10]}),
    )
    return token, secret


def revoke_token(session: Session, actor: Principal, token: ApiToken) -> None:
    if actor.user_id != token.user_id:
        actor.require(USERS_MANAGE)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor,
            entity_type="api_token",
            entity_id=token.id,
            action="revoked",
            changes={"revoked_at": [None, token.revoked_at.isoformat()]},
        )


def authenticate_token(
    session: Session, secret: str, *, now: datetime | None = None
) -> tuple[User, int | None] | None:
    """The active user owning a valid, unexpired, unrevoked token, else None. Reads only.

    With the user comes the token's id when its last use is due to be recorded (at most once
    a minute, `record_token_use`), so most requests never write.
    """
    now = now or utcnow()
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(secret))
    ).first()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.active:
        return None
    due = token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION
    return token.user, token.id if due else None


def record_token_use(session: Session, token_id: int, *, now: datetime | None = None) -> None:
    session.execute(
        update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now or utcnow())
    )


def purge_sessions(session: Session, *, older_than: timedelta) -> int:
    """Delete ended browser sessions, login attempts, lock resets and sent forms' one-time
    tokens older than `older_than` (a reset matters for one `login_locks.WINDOW`; the purge
    keeps at least a day)."""
    cutoff = utcnow() - older_than
    ended = session.execute(
        delete(UserSession).where(
            (UserSession.expires_at < cutoff) | (UserSession.revoked_at < cutoff)
        )
    )
    attempts = session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
    resets = session.execute(delete(LoginLockReset).where(LoginLockReset.reset_at < cutoff))
    # The UI's one-time form tokens (`hubdesk.web.ui.once`) outlive no session.
    forms = session.execute(delete(FormPost).where(FormPost.created_at < cutoff))
    counts: list[int] = [done.rowcount or 0 for done in (ended, attempts, resets, forms)]  # type: ignore[attr-defined]
    return sum(counts)


def list_permissions(session: Session) -> list[Permission]:
    return list(session.scalars(select(Permission).order_by(Permission.code)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0
