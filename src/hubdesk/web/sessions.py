"""Browser sessions of the agent UI: the session cookie, CSRF tokens and the failed-login limit.

A session is a 256-bit random secret in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` over
HTTPS or with `HUBDESK_COOKIE_SECURE=true`); the database keeps only its sha256 in
`user_sessions`, next to the session's CSRF token. A session ends after `IDLE_TIMEOUT`
without use, after `MAX_LIFETIME` in any case, on logout, or when its user is deactivated.
Its last use is written at most once a minute, so reading pages does not make every request
a write.

Every form of a logged-in page carries the session's CSRF token; the login form, which has
no session yet, carries an HMAC of a random pre-login cookie under the secret key.

Failed logins are limited per e-mail address (`FAILURE_LIMIT` in `FAILURE_WINDOW`) and per
client address (`IP_FAILURE_LIMIT`); every attempt is a row in `login_attempts`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from hubdesk.db.types import utcnow
from hubdesk.errors import HubdeskError, PermissionDenied
from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.users.models import User
from hubdesk.users.permissions import Principal
from hubdesk.users.secrets import hash_password, hash_token, verify_password
from hubdesk.users.session_models import LoginAttempt, UserSession

COOKIE_NAME: Final = "hubdesk_session"
LOGIN_COOKIE_NAME: Final = "hubdesk_login"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
IDLE_TIMEOUT: Final = timedelta(hours=12)
MAX_LIFETIME: Final = timedelta(days=7)
TOUCH_RESOLUTION: Final = timedelta(minutes=1)
FAILURE_LIMIT: Final = 5
IP_FAILURE_LIMIT: Final = 30
FAILURE_WINDOW: Final = timedelta(minutes=15)


class CsrfRejected(PermissionDenied):
    """A cookie-authenticated write without the session's CSRF token (403)."""

    def __init__(self, message: str) -> None:
        HubdeskError.__init__(self, message)
        self.permission = "csrf"


@dataclass(frozen=True, slots=True)
class BrowserSession:
    """The logged-in user of one request, as the UI needs them."""

    session_id: int
    principal: Principal
    user_id: int
    name: str
    email: str
    language: str
    csrf_token: str
    stale: bool = False
    """Its last use was recorded more than `TOUCH_RESOLUTION` ago."""


@dataclass(frozen=True, slots=True)
class LoginRefused:
    """Why a login did not succeed; `locked_until` is set when the limit was reached."""

    locked_until: datetime | None = None


def open_session(
    session: Session, user: User, *, user_agent: str, ip: str, now: datetime | None = None
) -> str:
    """Start a session for `user` (writes); returns the cookie's secret, shown only here."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=hash_token(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + IDLE_TIMEOUT,
            user_agent=user_agent[:300],
            ip=ip[:64],
        )
    )
    user.last_login_at = now
    session.flush()
    return secret


def resume_session(
    session: Session, secret: str, *, now: datetime | None = None
) -> BrowserSession | None:
    """The live session the cookie names, else None (reads only; see `touch_session`)."""
    now = now or utcnow()
    row = session.scalars(
        select(UserSession).where(UserSession.token_hash == hash_token(secret))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return BrowserSession(
        session_id=row.id,
        principal=users.principal_for(user),
        user_id=user.id,
        name=user.name,
        email=user.email,
        language=user.language,
        csrf_token=row.csrf_token,
        stale=now - row.last_seen_at > TOUCH_RESOLUTION,
    )


def touch_session(session: Session, session_id: int, *, now: datetime | None = None) -> None:
    """Record the session's use and slide its idle expiry, never past its lifetime (writes)."""
    now = now or utcnow()
    row = session.get(UserSession, session_id)
    if row is not None:
        row.last_seen_at = now
        row.expires_at = min(now + IDLE_TIMEOUT, row.created_at + MAX_LIFETIME)


def close_session(session: Session, secret: str, *, now: datetime | None = None) -> None:
    """End the session the cookie names (logout); unknown secrets are ignored (writes)."""
    row = session.scalars(
        select(UserSession).where(UserSession.token_hash == hash_token(secret))
    ).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()


def browser_session(request: Request, runtime: Runtime) -> BrowserSession | None:
    """The request's live session from its cookie (looked up once per request), else None."""
    if hasattr(request.state, "browser_session"):
        cached: BrowserSession | None = request.state.browser_session
        return cached
    found = None
    secret = request.cookies.get(COOKIE_NAME)
    if secret:
        with runtime.db.transaction(write=False) as session:
            found = resume_session(session, secret)
        if found is not None and found.stale:
            with runtime.db.transaction(write=True) as session:
                touch_session(session, found.session_id)
    request.state.browser_session = found
    return found


def secure_cookies(request: Request) -> bool:
    """Cookies are `Secure` over HTTPS, and always with `HUBDESK_COOKIE_SECURE=true` (for a
    TLS proxy in front of plain HTTP)."""
    runtime: Runtime = request.app.state.runtime
    return runtime.settings.cookie_secure or request.url.scheme == "https"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def login_form_token(secret_key: str, nonce: str) -> str:
    """The login form's CSRF token: an HMAC of the pre-login cookie's random nonce."""
    message = f"login:{nonce}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def log_in(
    session: Session, email: str, password: str, *, ip: str, now: datetime | None = None
) -> User | LoginRefused:
    """Check a password login against the failed-login limit and record the attempt (writes).

    A locked address is refused without looking at the password, so guessing goes no faster
    while the lock lasts. Unknown addresses cost the same password hash as known ones.
    """
    now = now or utcnow()
    address = email.strip().lower()[:320]
    until = locked_until(session, address, ip, now)
    if until is not None:
        _record(session, address, ip, succeeded=False, now=now)
        return LoginRefused(locked_until=until)
    user = users.find_user_by_email(session, address) if address else None
    if user is None or not user.active or not user.password_hash:
        verify_password(_dummy_hash(), password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    _record(session, address, ip, succeeded=ok, now=now)
    if ok and user is not None:
        return user
    return LoginRefused(locked_until=locked_until(session, address, ip, now))


def locked_until(session: Session, email: str, ip: str, now: datetime) -> datetime | None:
    """When the lock on this address (or client) ends, or None when logins are open.

    Failures count inside the window and after the address's last success.
    """
    since = now - FAILURE_WINDOW
    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    if last_success is not None and last_success > since:
        since = last_success
    by_email = _failures(session, LoginAttempt.email == email, since, FAILURE_LIMIT)
    by_ip = _failures(session, LoginAttempt.ip == ip, now - FAILURE_WINDOW, IP_FAILURE_LIMIT)
    ends = [t + FAILURE_WINDOW for t in (by_email, by_ip) if t is not None]
    return max(ends) if ends else None


def _failures(
    session: Session, condition: ColumnElement[bool], since: datetime, limit: int
) -> datetime | None:
    """The time of the `limit`-th most recent failure since `since`, when there are that many."""
    times = session.scalars(
        select(LoginAttempt.attempted_at)
        .where(condition, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since)
        .order_by(LoginAttempt.attempted_at.desc())
        .limit(limit)
    ).all()
    return times[-1] if len(times) >= limit else None


def _record(session: Session, email: str, ip: str, *, succeeded: bool, now: datetime) -> None:
    session.add(LoginAttempt(email=email, ip=ip[:64], succeeded=succeeded, attempted_at=now))
    session.flush()


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
