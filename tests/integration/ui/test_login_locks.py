"""The failed-login limit cannot be turned against real users (probe finding, issue 11 bug 5).

Failures count per (account, client address); a busy address locks only accounts never seen
there; an account attacked from everywhere is slowed down, not locked; `X-Forwarded-For` is
believed only from `HUBDESK_TRUSTED_PROXIES`; an admin sees and lifts a lock (UI and API,
audited) and `hubdesk user set-password` lifts it too.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hubdesk.access import sessions
from hubdesk.audit.models import AuditEntry
from hubdesk.config import load_settings
from hubdesk.db.types import utcnow
from hubdesk.runtime import Runtime
from hubdesk.users import login_locks
from hubdesk.users.session_models import LoginAttempt
from hubdesk.web.app import create_app
from tests.integration.test_cli import hubdesk
from tests.integration.ui.client import PASSWORD, UiClient, make_user, text_of
from tests.support.api import Api
from tests.support.databases import Templates

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.10"


def _client(runtime: Runtime, ip: str) -> UiClient:
    app = create_app(runtime.settings, runtime=runtime)
    return UiClient(TestClient(app, client=(ip, 5000)), runtime)


@pytest.fixture
def proxied_runtime(runtime: Runtime) -> Runtime:
    """The same database behind a reverse proxy at 127.0.0.1 that the admin configured."""
    settings = runtime.settings.model_copy(update={"trusted_proxies": "127.0.0.1, ::1"})
    return Runtime(settings, runtime.db, runtime.blobs, runtime.secret_key)


def _fail(runtime: Runtime, email: str, ip: str, times: int, *, at: timedelta) -> None:
    """`times` failed password checks, as `log_in` records them, `at` ago."""
    with runtime.db.transaction() as session:
        for _ in range(times):
            login_locks.record(session, email, ip, succeeded=False, now=utcnow() - at)


def _log_in(runtime: Runtime, email: str, ip: str, password: str = PASSWORD) -> object:
    with runtime.db.transaction() as session:
        return sessions.log_in(session, email, password, ip=ip)


def test_a_stranger_cannot_lock_a_user_out_from_elsewhere(runtime: Runtime) -> None:
    """Five wrong passwords from the attacker's address lock the account there (429) - and
    only there: the user signs in from the office at once."""
    _user_id, email = make_user(runtime, ["agents"])
    attacker = _client(runtime, ATTACKER)
    answers = [attacker.log_in(email, "wrong password").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    assert attacker.log_in(email).status_code == 429, "right password, still locked there"
    assert _client(runtime, OFFICE).log_in(email).status_code == 303


def test_a_busy_address_locks_only_accounts_never_seen_there(runtime: Runtime) -> None:
    """Thirty failures from one address (password spraying behind a NAT) lock that address
    for accounts that never signed in from it, not for colleagues who did (the admin
    included), and not the sprayed accounts elsewhere."""
    _admin_id, admin = make_user(runtime, ["admins"], name="Admin")
    _new_id, newcomer = make_user(runtime, ["agents"], name="Newcomer")
    assert not isinstance(_log_in(runtime, admin, OFFICE), sessions.LoginRefused)
    for n in range(30):
        _fail(runtime, f"sprayed-{n}@agents.example.com", OFFICE, 1, at=timedelta(minutes=1))

    refused = _log_in(runtime, newcomer, OFFICE)
    assert isinstance(refused, sessions.LoginRefused)
    assert refused.locked_until is not None
    assert not isinstance(_log_in(runtime, admin, OFFICE), sessions.LoginRefused)
    assert not isinstance(_log_in(runtime, newcomer, ATTACKER), sessions.LoginRefused)


def test_an_account_attacked_from_everywhere_is_slowed_down_not_locked(runtime: Runtime) -> None:
    """After 100 failures from many addresses, unknown addresses get one password check a
    minute for that account; the user's own address is not slowed down at all."""
    _user_id, email = make_user(runtime, ["agents"])
    assert not isinstance(_log_in(runtime, email, OFFICE), sessions.LoginRefused)
    for n in range(100):
        _fail(runtime, email, f"192.0.2.{n}", 1, at=timedelta(seconds=30))

    slowed = _log_in(runtime, email, "192.0.2.200")
    assert isinstance(slowed, sessions.LoginRefused)
    assert slowed.locked_until is not None
    assert slowed.locked_until <= utcnow() + login_locks.ACCOUNT_SLOWDOWN
    assert not isinstance(_log_in(runtime, email, OFFICE), sessions.LoginRefused)
    later = utcnow() + login_locks.ACCOUNT_SLOWDOWN
    with runtime.db.transaction() as session:
        allowed = sessions.log_in(session, email, PASSWORD, ip="192.0.2.200", now=later)
    assert not isinstance(allowed, sessions.LoginRefused), "one check a minute, not a lock"


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    runtime: Runtime, proxied_runtime: Runtime
) -> None:
    """By default a client cannot dodge the limit by writing X-Forwarded-For: the attempt is
    counted against its real address. Behind a configured proxy the client address is the
    nearest untrusted hop, so a forged leftmost entry is ignored too."""
    _user_id, email = make_user(runtime, ["agents"])
    direct = _client(runtime, "127.0.0.1")
    for n in range(5):
        direct.client.headers["X-Forwarded-For"] = f"192.0.2.{n}"
        direct.log_in(email, "wrong password")
    assert direct.log_in(email).status_code == 429

    proxied = _client(proxied_runtime, "127.0.0.1")
    proxied.client.headers["X-Forwarded-For"] = "6.6.6.6, 198.51.100.77"
    assert proxied.log_in(email, "wrong password").status_code == 401
    proxied.client.headers["X-Forwarded-For"] = "198.51.100.88"
    assert proxied.log_in(email).status_code == 303, "another client behind the proxy"
    with runtime.db.transaction(write=False) as session:
        addresses = session.scalars(
            select(LoginAttempt.ip).where(LoginAttempt.email == email).order_by(LoginAttempt.id)
        ).all()
    assert addresses == ["127.0.0.1"] * 6 + ["198.51.100.77", "198.51.100.88"]


def test_an_admin_sees_and_lifts_a_lock_in_the_ui(ui: UiClient, runtime: Runtime) -> None:
    """/admin/users shows "Locked until ..." for the locked user; their page names the
    address and has an Unlock button; after it the user signs in from that address, and
    the audit trail says who lifted the lock."""
    admin_id = ui.log_in_as(["admins"], name="Admin")
    user_id, email = make_user(runtime, ["agents"], name="Locked Out")
    _fail(runtime, email, ATTACKER, 5, at=timedelta(minutes=1))

    listing = text_of(ui.get("/admin/users").text)
    assert "Locked until" in listing
    page = ui.get(f"/admin/users/{user_id}")
    assert ATTACKER in text_of(page.text)
    answer = ui.post(f"/admin/users/{user_id}/unlock")
    assert answer.status_code == 303
    assert "Not locked." in text_of(ui.get(f"/admin/users/{user_id}").text)
    assert not isinstance(_log_in(runtime, email, ATTACKER), sessions.LoginRefused)
    with runtime.db.transaction(write=False) as session:
        entry = session.execute(
            select(
                AuditEntry.entity_type,
                AuditEntry.entity_id,
                AuditEntry.actor_user_id,
                AuditEntry.changes,
            ).where(AuditEntry.action == "login_unlocked")
        ).one()
    assert tuple(entry)[:3] == ("user", user_id, admin_id)
    assert entry.changes["addresses"] == [[ATTACKER], []]


def test_the_api_shows_and_lifts_a_lock_for_admins_only(api: Api, runtime: Runtime) -> None:
    user_id, email = make_user(runtime, ["agents"])
    _fail(runtime, email, ATTACKER, 5, at=timedelta(minutes=1))
    path = f"/api/v1/users/{user_id}/login-lock"
    lock = api.ok(api.get(path))
    assert lock["locked"] is True
    assert lock["addresses"] == [ATTACKER]
    assert lock["failures"] == 5
    assert api.delete(path, role="agents").status_code == 403
    assert api.get(path, role="agents").status_code == 403
    api.ok(api.delete(path), 204)
    assert api.ok(api.get(path))["locked"] is False
    assert api.delete("/api/v1/users/999999/login-lock").status_code == 404


def test_set_password_lifts_the_lock(tmp_path: Path, templates: Templates) -> None:
    """`hubdesk user set-password` ends the lock: the user signs in with the new password
    from the address that was locked."""
    templates.sqlite_copy(tmp_path / "cli.db")
    address = "locked@example.com"
    created = hubdesk(
        tmp_path, "user", "create", address, "--name", "L", "--password", "first password"
    )
    assert created.code == 0, created.err
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    runtime = Runtime.build(load_settings(database_url=database, data_dir=tmp_path / "data"))
    try:
        _fail(runtime, address, ATTACKER, 5, at=timedelta(minutes=1))
        refused = _log_in(runtime, address, ATTACKER, "first password")
        assert isinstance(refused, sessions.LoginRefused)
        changed = hubdesk(
            tmp_path, "user", "set-password", address, "--password", "second password"
        )
        assert changed.code == 0, changed.err
        signed_in = _log_in(runtime, address, ATTACKER, "second password")
        assert not isinstance(signed_in, sessions.LoginRefused)
    finally:
        runtime.close()


def test_an_admin_setting_a_password_lifts_the_lock(api: Api, runtime: Runtime) -> None:
    """A new password set by an admin through the API lifts the lock, as set-password does;
    changing only the name does not."""
    user_id, email = make_user(runtime, ["agents"])
    _fail(runtime, email, ATTACKER, 5, at=timedelta(minutes=1))
    path = f"/api/v1/users/{user_id}/login-lock"
    api.ok(api.patch(f"/api/v1/users/{user_id}", json={"name": "Renamed"}))
    assert api.ok(api.get(path))["locked"] is True
    api.ok(api.patch(f"/api/v1/users/{user_id}", json={"password": "a new password"}))
    assert api.ok(api.get(path))["locked"] is False
    signed_in = _log_in(runtime, email, ATTACKER, "a new password")
    assert not isinstance(signed_in, sessions.LoginRefused)


def test_the_purge_drops_old_lock_resets_only(runtime: Runtime) -> None:
    """`purge_sessions` (run by `hubdesk purge`) deletes lock resets older than its cutoff
    and keeps the recent ones, which still exempt the account."""
    from hubdesk.users import service as users
    from hubdesk.users.session_models import LoginLockReset

    now = utcnow()
    with runtime.db.transaction() as session:
        login_locks.clear(
            session,
            "old@example.com",
            reason="admin",
            actor_user_id=None,
            now=now - timedelta(days=40),
        )
        login_locks.clear(session, "new@example.com", reason="admin", actor_user_id=None, now=now)
    with runtime.db.transaction() as session:
        users.purge_sessions(session, older_than=timedelta(days=30))
    with runtime.db.transaction() as session:
        left = sorted(session.scalars(select(LoginLockReset.email)))
    assert left == ["new@example.com"]
