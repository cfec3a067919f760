"""Browser sessions of the agent UI: the session cookie, CSRF tokens and the failed-login limit.

A session is a 256-bit random secret in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` over
HTTPS or with `HUBDESK_COOKIE_SECURE=true`); the database keeps only its sha256 in
`user_sessions`, next to the session's CSRF token. A session ends after `IDLE_TIMEOUT`
without use, after `MAX_LIFETIME` in any case, on logout, or when its user is deactivated.
Its last use is written at most once a minute, so reading pages does not make every request
a write.

Every form of a logged-in page carries the session's CSRF token; the login form, which has
no session yet, carries an HMAC of a random pre-login cookie under the secret key.

Failed logins are limited per account and client address, per client address and per
account (`hubdesk.users.login_locks` has the rules). The client address is the TCP peer;
`X-Forwarded-For` and `X-Forwarded-Proto` are believed only from a peer listed in
`HUBDESK_TRUSTED_PROXIES` (`client_ip`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request

from hubdesk.db.types import utcnow
from hubdesk.errors import HubdeskError, PermissionDenied
from hubdesk.runtime import Runtime
from hubdesk.users import login_locks
from hubdesk.users import service as users
from hubdesk.users.models import User
from hubdesk.users.permissions import Principal
from hubdesk.users.secrets import hash_password, hash_token, verify_password
from hubdesk.users.session_models import UserSession

COOKIE_NAME: Final = "hubdesk_session"
LOGIN_COOKIE_NAME: Final = "hubdesk_login"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
IDLE_TIMEOUT: Final = timedelta(hours=12)
MAX_LIFETIME: Final = timedelta(days=7)
TOUCH_RESOLUTION: Final = timedelta(minutes=1)
FAILURE_WINDOW: Final = login_locks.WINDOW


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
    """Cookies are `Secure` over HTTPS (directly, or `X-Forwarded-Proto: https` from a trusted
    proxy), and always with `HUBDESK_COOKIE_SECURE=true`."""
    runtime: Runtime = request.app.state.runtime
    if runtime.settings.cookie_secure or request.url.scheme == "https":
        return True
    if not _from_trusted_proxy(request, runtime):
        return False
    proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return proto == "https"


def client_ip(request: Request) -> str:
    """The client's address: the TCP peer, or, when the peer is a proxy listed in
    `HUBDESK_TRUSTED_PROXIES`, the nearest address in `X-Forwarded-For` that is not one of
    those proxies (read from the right, the end the proxies appended to). Anyone else's
    `X-Forwarded-For` is ignored: a client could write any address there."""
    peer = request.client.host if request.client else ""
    runtime: Runtime = request.app.state.runtime
    if not _from_trusted_proxy(request, runtime):
        return peer
    networks = runtime.settings.trusted_proxy_networks
    hops = [
        hop.strip()
        for value in request.headers.getlist("x-forwarded-for")
        for hop in value.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # a malformed chain: believe only the peer
        if not any(address in network for network in networks):
            return str(address)
    return str(_address(hops[0])) if hops else peer


def _from_trusted_proxy(request: Request, runtime: Runtime) -> bool:
    networks = runtime.settings.trusted_proxy_networks
    peer = _address(request.client.host) if request.client else None
    return peer is not None and any(peer in network for network in networks)


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip().removeprefix("[").split("]")[0])
    except ValueError:
        return None


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

    A refused attempt is refused without looking at the password, so guessing goes no faster
    while a lock lasts. Unknown addresses cost the same password hash as known ones.
    """
    now = now or utcnow()
    address = login_locks.normalize(email)
    until = login_locks.refused_until(session, address, ip, now)
    if until is not None:
        login_locks.record(session, address, ip, succeeded=False, now=now, password_checked=False)
        return LoginRefused(locked_until=until)
    user = users.find_user_by_email(session, address) if address else None
    if user is None or not user.active or not user.password_hash:
        verify_password(_dummy_hash(), password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    login_locks.record(session, address, ip, succeeded=ok, now=now)
    if ok and user is not None:
        return user
    return LoginRefused(locked_until=login_locks.refused_until(session, address, ip, now))


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
