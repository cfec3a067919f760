"""The failed-login limit: who may try a password now, an account's lock, and lifting it.

Every attempt is a row in `login_attempts` (account e-mail, client address, outcome). The
rules, chosen so that a stranger cannot lock a real user out from elsewhere:

1. **Account and address** (`PAIR_LIMIT` failures in `WINDOW`): that account is locked *from
   that client address* until `WINDOW` after the `PAIR_LIMIT`-th most recent failure. The
   same account from any other address is not affected. Counting starts again after a
   successful login from that address and after the account's locks were lifted.
2. **Address** (`ADDRESS_LIMIT` failures in `WINDOW`, any accounts): the address is locked
   for every account *except* accounts that signed in from it within `KNOWN_ADDRESS_FOR`
   (colleagues behind the same NAT keep working) and accounts unlocked within `WINDOW`.
3. **Account, from everywhere** (`ACCOUNT_LIMIT` checked failures in `WINDOW`): a slow-down,
   not a lock: from addresses the account is not known at, its password is checked at most
   once per `ACCOUNT_SLOWDOWN`; other attempts are refused without looking at the password.

A refused attempt is recorded too (`password_checked` false), so guessing on while locked
keeps the lock. An admin's Unlock and `hubdesk user set-password` lift rules 1 and 3 for the
account and exempt it from rule 2 for one `WINDOW` (a row in `login_lock_resets`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.users.models import User
from hubdesk.users.permissions import USERS_MANAGE, Principal
from hubdesk.users.session_models import LoginAttempt, LoginLockReset

WINDOW: Final = timedelta(minutes=15)
PAIR_LIMIT: Final = 5
ADDRESS_LIMIT: Final = 30
ACCOUNT_LIMIT: Final = 100
ACCOUNT_SLOWDOWN: Final = timedelta(minutes=1)
KNOWN_ADDRESS_FOR: Final = timedelta(days=30)
MAX_LISTED_ROWS: Final = 5000


@dataclass(frozen=True, slots=True)
class LockStatus:
    """An account's login lock as an admin sees it; `locked_until` None means open."""

    locked_until: datetime | None
    addresses: tuple[str, ...]
    """Client addresses the account is locked from (rule 1)."""
    slowed_down: bool
    """Rule 3 is in force: too many failures from everywhere."""
    failures: int
    """Failed attempts counted in the window."""

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def normalize(email: str) -> str:
    return email.strip().lower()[:320]


def record(
    session: Session,
    email: str,
    ip: str,
    *,
    succeeded: bool,
    now: datetime,
    password_checked: bool = True,
) -> None:
    session.add(
        LoginAttempt(
            email=email,
            ip=ip[:64],
            succeeded=succeeded,
            attempted_at=now,
            password_checked=password_checked,
        )
    )
    session.flush()


def refused_until(session: Session, email: str, ip: str, now: datetime) -> datetime | None:
    """When `email` may try a password from `ip` again, or None when it may now."""
    reset = last_reset(session, email)
    since = max(now - WINDOW, reset) if reset is not None else now - WINDOW
    ends: list[datetime] = []
    pair = (LoginAttempt.email == email) & (LoginAttempt.ip == ip)
    pair_success = _last_success(session, pair)
    pair_since = max(since, pair_success) if pair_success is not None else since
    nth = _nth_failure(session, pair, pair_since, PAIR_LIMIT)
    if nth is not None:
        ends.append(nth + WINDOW)
    recently_reset = reset is not None and reset > now - WINDOW
    if not recently_reset and not _known_address(session, email, ip, now):
        nth = _nth_failure(session, LoginAttempt.ip == ip, now - WINDOW, ADDRESS_LIMIT)
        if nth is not None:
            ends.append(nth + WINDOW)
        slowed = _slowdown_ends(session, email, since)
        if slowed is not None and slowed > now:
            ends.append(slowed)
    return max(ends) if ends else None


def lock_status(session: Session, email: str, now: datetime) -> LockStatus:
    """The account's lock (rules 1 and 3) for the admin pages and the API."""
    email = normalize(email)
    reset = last_reset(session, email)
    since = max(now - WINDOW, reset) if reset is not None else now - WINDOW
    rows = session.execute(
        select(LoginAttempt.ip, LoginAttempt.attempted_at, LoginAttempt.succeeded)
        .where(LoginAttempt.email == email, LoginAttempt.attempted_at > since)
        .order_by(LoginAttempt.attempted_at)
        .limit(MAX_LISTED_ROWS)
    ).all()
    by_ip: dict[str, list[datetime]] = {}
    failures = 0
    for ip, at, succeeded in rows:
        if succeeded:
            by_ip[ip] = []  # counting starts again after a success from there
        else:
            by_ip.setdefault(ip, []).append(at)
            failures += 1
    ends: dict[str, datetime] = {}
    for ip, times in by_ip.items():
        if len(times) >= PAIR_LIMIT and times[-PAIR_LIMIT] + WINDOW > now:
            ends[ip] = times[-PAIR_LIMIT] + WINDOW
    slowed = _slowdown_ends(session, email, since)
    slowed_down = slowed is not None and slowed > now
    until = [*ends.values(), *([slowed] if slowed is not None and slowed_down else [])]
    return LockStatus(
        locked_until=max(until) if until else None,
        addresses=tuple(sorted(ends)),
        slowed_down=slowed_down,
        failures=failures,
    )


def clear(
    session: Session, email: str, *, reason: str, actor_user_id: int | None, now: datetime
) -> None:
    """Lift the account's locks (writes a `login_lock_resets` row; the caller audits it)."""
    session.add(
        LoginLockReset(
            email=normalize(email), reset_at=now, reason=reason, actor_user_id=actor_user_id
        )
    )
    session.flush()


def last_reset(session: Session, email: str) -> datetime | None:
    return session.scalar(
        select(func.max(LoginLockReset.reset_at)).where(LoginLockReset.email == email)
    )


def _last_success(session: Session, condition: ColumnElement[bool]) -> datetime | None:
    return session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            condition, LoginAttempt.succeeded.is_(True)
        )
    )


def _known_address(session: Session, email: str, ip: str, now: datetime) -> bool:
    last = _last_success(session, (LoginAttempt.email == email) & (LoginAttempt.ip == ip))
    return last is not None and last > now - KNOWN_ADDRESS_FOR


def _slowdown_ends(session: Session, email: str, since: datetime) -> datetime | None:
    """When the next password check for `email` is allowed under rule 3 (None: not in force)."""
    checked = _nth_failure(
        session,
        (LoginAttempt.email == email) & LoginAttempt.password_checked.is_(True),
        since,
        ACCOUNT_LIMIT,
    )
    if checked is None:
        return None
    latest = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email,
            LoginAttempt.password_checked.is_(True),
            LoginAttempt.succeeded.is_(False),
        )
    )
    return latest + ACCOUNT_SLOWDOWN if latest is not None else None


def _nth_failure(
    session: Session, condition: ColumnElement[bool], since: datetime, limit: int
) -> datetime | None:
    """The time of the `limit`-th most recent failure after `since`, when there are that many."""
    times = session.scalars(
        select(LoginAttempt.attempted_at)
        .where(condition, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > since)
        .order_by(LoginAttempt.attempted_at.desc())
        .limit(limit)
    ).all()
    return times[-1] if len(times) >= limit else None


def unlock(session: Session, actor: Principal, user: User, *, now: datetime) -> LockStatus:
    """An admin lifts `user`'s login lock (needs `users.manage`; audited). Returns the lock
    as it was."""
    actor.require(USERS_MANAGE)
    before = lock_status(session, user.email, now)
    clear(session, user.email, reason="admin", actor_user_id=actor.user_id, now=now)
    audit.record(
        session,
        actor,
        entity_type="user",
        entity_id=user.id,
        action="login_unlocked",
        changes={
            "locked_until": [audit.jsonable(before.locked_until), None],
            "addresses": [list(before.addresses), []],
        },
    )
    return before
