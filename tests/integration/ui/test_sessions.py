"""Signing in (HTTP level): the session cookie, the failed-login limit, logout, expiry, the
first admin from `hubdesk bootstrap`, and the API reached with the session cookie."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hubdesk.access import sessions
from hubdesk.db.types import utcnow
from hubdesk.runtime import Runtime
from hubdesk.users.session_models import LoginAttempt, UserSession
from hubdesk.web.app import create_app
from tests.integration.ui.client import PASSWORD, UiClient, csrf_of, make_user


def test_the_session_cookie_is_httponly_samesite_and_secure_when_configured(
    ui: UiClient, runtime: Runtime
) -> None:
    """The cookie is HttpOnly and SameSite=Lax; Secure over HTTPS, and with
    HUBDESK_COOKIE_SECURE=true even when the app itself is reached over plain HTTP (behind a
    TLS proxy); the database keeps only its hash."""
    _user_id, email = make_user(runtime, ["agents"])
    response = ui.log_in(email)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("hubdesk_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    secret = cookie.split(";")[0].split("=", 1)[1]
    with runtime.db.transaction(write=False) as session:
        hashes = session.scalars(select(UserSession.token_hash)).all()
    assert secret not in hashes
    assert len(hashes) == 1

    secure = runtime.settings.model_copy(update={"cookie_secure": True})
    behind_proxy = Runtime(secure, runtime.db, runtime.blobs, runtime.secret_key)
    with TestClient(create_app(secure, runtime=behind_proxy)) as client:
        form = client.get("/login")
        assert "Secure" in form.headers["set-cookie"], "plain HTTP to the app, Secure anyway"
    with TestClient(
        create_app(runtime.settings, runtime=runtime), base_url="https://testserver"
    ) as client:
        token = csrf_of(client.get("/login").text)
        answer = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        cookie = next(
            h for h in answer.headers.get_list("set-cookie") if h.startswith("hubdesk_session=")
        )
        assert "Secure" in cookie
        assert "HttpOnly" in cookie


def test_five_failures_lock_the_address_for_fifteen_minutes(ui: UiClient, runtime: Runtime) -> None:
    """Four wrong passwords get "not right"; the fifth locks the address with a clear message
    (429), and while locked even the right password is refused; other addresses are not
    affected; every attempt is a row in login_attempts; the lock ends after the window."""
    _user_id, email = make_user(runtime, ["agents"])
    for _ in range(4):
        answer = ui.log_in(email, "wrong password")
        assert answer.status_code == 401
        assert "The e-mail address or password is not right." in answer.text
    fifth = ui.log_in(email, "wrong password")
    assert fifth.status_code == 429
    assert "Too many failed sign-ins for this address. Try again in 15 minutes." in fifth.text
    locked = ui.log_in(email, PASSWORD)
    assert locked.status_code == 429
    assert "hubdesk_session" not in locked.cookies
    _other_id, other = make_user(runtime, ["agents"])
    assert ui.log_in(other).status_code == 303

    with runtime.db.transaction(write=False) as session:
        rows = session.execute(
            select(LoginAttempt.succeeded, LoginAttempt.ip)
            .where(LoginAttempt.email == email)
            .order_by(LoginAttempt.id)
        ).all()
    assert [tuple(r) for r in rows] == [(False, "testclient")] * 6

    later = utcnow() + sessions.FAILURE_WINDOW + timedelta(seconds=1)
    with runtime.db.transaction() as session:
        outcome = sessions.log_in(session, email, PASSWORD, ip="testclient", now=later)
    assert not isinstance(outcome, sessions.LoginRefused)


def test_logging_out_ends_the_session_for_good(ui: UiClient, runtime: Runtime) -> None:
    """After logout the old cookie opens nothing, even when a browser sends it again."""
    ui.log_in_as(["agents"])
    old = ui.client.cookies.get("hubdesk_session")
    assert ui.get("/").status_code == 200
    assert ui.post("/logout").headers["location"] == "/login"
    ui.client.cookies.set("hubdesk_session", old or "")
    assert ui.get("/").headers["location"] == "/login"
    with runtime.db.transaction(write=False) as session:
        assert session.scalars(select(UserSession.revoked_at)).one() is not None


def test_an_expired_or_idle_session_asks_for_a_new_login(ui: UiClient, runtime: Runtime) -> None:
    """A session past its expiry redirects to the login page; use slides the idle expiry but
    never past the session's lifetime."""
    ui.log_in_as(["agents"])
    with runtime.db.transaction() as session:
        row = session.scalars(select(UserSession)).one()
        start = row.created_at
        sessions.touch_session(session, row.id, now=start + timedelta(days=6, hours=20))
        assert row.expires_at == start + sessions.MAX_LIFETIME
        session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert ui.get("/tickets").headers["location"] == "/login?next=%2Ftickets"


def test_login_goes_only_to_local_pages(ui: UiClient, runtime: Runtime) -> None:
    """`next` may name a page of this site; another site's address is replaced by `/`."""
    _user_id, email = make_user(runtime, ["agents"])
    for wanted, landing in (
        ("/tickets?q=a", "/tickets?q=a"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
    ):
        ui.forget_cookies()
        token = csrf_of(ui.client.get(f"/login?next={wanted}").text)
        answer = ui.client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token, "next": wanted},
            follow_redirects=False,
        )
        assert answer.headers["location"] == landing


def test_the_first_admin_from_bootstrap_can_log_in_at_once(
    ui: UiClient, runtime: Runtime, tmp_path: Path
) -> None:
    """`hubdesk bootstrap` (what `make run` calls) prints a login that works on the login page."""
    env = {
        **os.environ,
        "DATABASE_URL": runtime.settings.database_url,
        "HUBDESK_DATA_DIR": str(runtime.settings.data_dir),
        "HUBDESK_SECRET_KEY": runtime.secret_key,
        "MAIL_DOMAIN": "support.example.com",
    }
    hubdesk = Path(sys.executable).with_name("hubdesk")
    result = subprocess.run(
        [str(hubdesk), "bootstrap"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    email = re.search(r"e-mail:\s+(\S+)", result.stdout)
    password = re.search(r"password:\s+(\S+)", result.stdout)
    assert email, result.stdout
    assert password, result.stdout
    answer = ui.log_in(email.group(1), password.group(1))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    assert "Users" in ui.get("/").text


def test_the_api_accepts_the_session_cookie_but_writes_need_the_csrf_header(
    ui: UiClient,
) -> None:
    """With the session cookie the API reads; a write also needs the session's token in
    X-CSRF-Token (403 without it), so the cookie alone never authorises a change."""
    ui.log_in_as(["agents"])
    assert ui.client.get("/api/v1/tickets").status_code == 200
    refused = ui.client.post("/api/v1/tickets", json={"subject": "From the browser"})
    assert refused.status_code == 403
    made = ui.client.post(
        "/api/v1/tickets", json={"subject": "From the browser"}, headers={"X-CSRF-Token": ui.csrf}
    )
    assert made.status_code == 201
    ui.forget_cookies()
    assert ui.client.get("/api/v1/tickets").status_code == 401
