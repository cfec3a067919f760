"""'My account' and API tokens at HTTP level (SQLite and PostgreSQL): one's own details,
signature and notification choices, an e-mail change that waits for the link mailed to the
new address, a password change that needs the current one, and tokens shown once."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.errors import ValidationFailed
from hubdesk.outbox import email_change
from hubdesk.outbox.models import OutboxMessage
from hubdesk.outbox.notify import notify_agent
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.models import ApiToken, User
from tests.integration.ui.client import PASSWORD, UiClient, flash_of, text_of
from tests.integration.ui.scenario import printer_ticket
from tests.integration.ui.test_uiforms_pages import form_token

_SECRET = re.compile(r'id="new-token-secret" class="secret" value="([^"]+)"')
_LINK = re.compile(rb"https://help\.example\.com/desk/account/email/confirm\?token=(\S+)")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Mail can be queued (an SMTP host is named; nothing is sent here) and links have a base."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        smtp_host="127.0.0.1",
        public_url="https://help.example.com/desk/",
        _env_file=None,  # type: ignore[call-arg]
    )


def _user(runtime: Runtime, user_id: int) -> User:
    with runtime.db.transaction(write=False) as session:
        user = session.get(User, user_id)
        assert user is not None
        session.expunge(user)
        return user


def test_tokens_are_shown_once_used_and_revoked(ui: UiClient, runtime: Runtime) -> None:
    me = ui.log_in_as(["agents"])
    page = ui.get("/account/tokens").text
    refused = ui.post(
        "/account/tokens",
        {"name": "invoicing", "expires_on": "2001-01-01", "form_token": form_token(page)},
    )
    assert refused.status_code == 422
    assert "expires_at must be in the future" in text_of(refused.text)
    assert 'value="invoicing"' in refused.text
    posted = {"name": "invoicing", "expires_on": "", "form_token": form_token(page)}
    created = ui.post("/account/tokens", posted)
    assert created.status_code == 201
    assert created.headers["cache-control"] == "private, no-store"
    found = _SECRET.search(created.text)
    assert found
    secret = found.group(1)
    again = ui.post("/account/tokens", posted)
    assert again.headers["location"] == "/account/tokens"
    assert secret not in ui.get("/account/tokens").text
    with runtime.db.transaction(write=False) as session:
        mine = session.scalars(select(ApiToken).where(ApiToken.name == "invoicing")).all()
        assert len(mine) == 1
        token_id = mine[0].id
        assert mine[0].user_id == me
    api = ui.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    listed = text_of(ui.get("/account/tokens").text)
    assert "invoicing " + secret[:10] + "…" in listed
    assert "Never" in listed  # the test token made with the user was never used
    row = listed[listed.index("invoicing " + secret[:10]) :].split("Revoke")[0]
    assert "Never" not in row
    revoked = ui.post(f"/account/tokens/{token_id}/revoke")
    assert flash_of(runtime, revoked).text == f"Token {secret[:10]}… revoked."
    api = ui.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_another_users_token_cannot_be_revoked(ui: UiClient, runtime: Runtime) -> None:
    ui.log_in_as(["agents"])
    other = UiClient(client=ui.client, runtime=runtime)
    with runtime.db.transaction(write=False) as session:
        first = session.scalars(select(ApiToken)).first()
        assert first is not None
        first_id = first.id
    other.forget_cookies()
    other.log_in_as(["admins"])
    assert other.post(f"/account/tokens/{first_id}/revoke").status_code == 404
    with runtime.db.transaction(write=False) as session:
        still = session.get(ApiToken, first_id)
        assert still is not None
        assert still.revoked_at is None


def test_profile_signature_and_notification_choices(ui: UiClient, runtime: Runtime) -> None:
    me = ui.log_in_as(["agents"], name="Agnes Agent")
    refused = ui.post(
        "/account/profile", {"name": " ", "language": "da", "signature": "Agnes\nHubdesk A/S"}
    )
    assert refused.status_code == 422
    assert "Agnes\nHubdesk A/S</textarea>" in refused.text
    saved = ui.post(
        "/account/profile",
        {"name": "Agnes A.", "language": "da", "signature": "Agnes\r\nHubdesk A/S"},
    )
    assert flash_of(runtime, saved).text == "Dine oplysninger er gemt."
    user = _user(runtime, me)
    assert (user.name, user.language, user.signature) == ("Agnes A.", "da", "Agnes\nHubdesk A/S")
    cleared = ui.post("/account/profile", {"name": "Agnes A.", "language": "en", "signature": ""})
    assert cleared.status_code == 303
    assert _user(runtime, me).signature is None

    # Only customer replies: no mail when a ticket is assigned.
    ui.post(
        "/account/notifications",
        {"notify_by_email": "1", "notify_on_customer_reply": "1"},
    )
    user = _user(runtime, me)
    assert user.notify_by_email
    assert not user.notify_on_assigned
    assert user.notify_on_customer_reply
    made = printer_ticket(runtime)
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        ticket.assigned_to_user_id = me
        assigned = notify_agent(session, runtime, ticket, event="assigned", now=utcnow())
        replied = notify_agent(session, runtime, ticket, event="customer_replied", now=utcnow())
        assert assigned is None
        assert replied is not None
        assert replied.recipients == [user.email]


def test_signature_through_the_api(ui: UiClient, runtime: Runtime) -> None:
    """`PATCH /api/v1/users/{id}` stores one's signature; `/users/me` shows it."""
    from tests.support import api as support_api

    user_id, token = support_api.make_user(runtime, ["agents"])
    headers = {"Authorization": f"Bearer {token}"}
    patched = ui.client.patch(
        f"/api/v1/users/{user_id}",
        json={"signature": "Bo\nSupport", "notify_on_sla": False},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    me = ui.client.get("/api/v1/users/me", headers=headers).json()
    assert (me["signature"], me["notify_on_sla"], me["notify_on_assigned"]) == (
        "Bo\nSupport",
        False,
        True,
    )


def test_an_email_change_waits_for_the_link(ui: UiClient, runtime: Runtime) -> None:
    me = ui.log_in_as(["agents"])
    old = _user(runtime, me).email
    wrong = ui.post(
        "/account/email", {"new_email": "agnes@new.example", "current_password": "nope"}
    )
    assert wrong.status_code == 422
    assert 'value="agnes@new.example"' in wrong.text
    assert "current_password is not your current password" in text_of(wrong.text)
    taken = ui.post("/account/email", {"new_email": old.upper(), "current_password": PASSWORD})
    assert taken.status_code == 422
    asked = ui.post(
        "/account/email", {"new_email": "Agnes@New.example", "current_password": PASSWORD}
    )
    assert flash_of(runtime, asked).text == (
        "We mailed a link to agnes@new.example. Your address changes when you open it."
    )
    assert _user(runtime, me).email == old
    with runtime.db.transaction(write=False) as session:
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice")).one()
        assert mail.recipients == ["agnes@new.example"]
        found = _LINK.search(mail.raw.replace(b"=\r\n", b"").replace(b"=3D", b"="))
        assert found, mail.raw
        token = found.group(1).decode()
    flipped = token[:-1] + ("1" if token.endswith("0") else "0")
    forged = ui.get("/account/email/confirm?token=" + flipped)
    assert forged.status_code == 400
    assert _user(runtime, me).email == old
    shown = ui.get("/account/email/confirm?token=" + token)
    assert "changes from " + old + " to agnes@new.example" in text_of(shown.text)
    assert _user(runtime, me).email == old  # opening the link changes nothing
    confirmed = ui.post("/account/email/confirm", {"token": token})
    assert flash_of(runtime, confirmed).text == "Your e-mail address is now agnes@new.example."
    assert _user(runtime, me).email == "agnes@new.example"
    replayed = ui.get("/account/email/confirm?token=" + token)
    assert replayed.status_code == 400
    assert "used already or is out of date" in text_of(replayed.text)
    again = ui.post("/account/email/confirm", {"token": token, "back": "/account"})
    assert "used already" in flash_of(runtime, again).text


def test_an_email_link_expires(runtime: Runtime) -> None:
    with runtime.db.transaction(write=False) as session:
        user = User(id=7, email="a@b.example", name="A")
        now = utcnow()
        token = email_change.make_token(runtime.secret_key, user, "c@d.example", now)
        assert email_change.read_token(runtime.secret_key, token, now) == (
            7,
            "a@b.example",
            "c@d.example",
        )
        with pytest.raises(ValidationFailed, match="expired"):
            email_change.read_token(runtime.secret_key, token, now + timedelta(hours=25))
        session.expunge_all()


def test_a_password_change_needs_the_current_one(ui: UiClient, runtime: Runtime) -> None:
    me = ui.log_in_as(["agents"])
    email = _user(runtime, me).email
    differ = ui.post(
        "/account/password",
        {"current_password": PASSWORD, "password": "a new long one", "password_again": "other"},
    )
    assert differ.status_code == 422
    assert "differ" in text_of(differ.text)
    wrong = ui.post(
        "/account/password",
        {
            "current_password": "nope",
            "password": "a new long one",
            "password_again": "a new long one",
        },
    )
    assert wrong.status_code == 422
    changed = ui.post(
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "a new long one",
            "password_again": "a new long one",
        },
    )
    assert changed.headers["location"] == "/login"
    assert ui.get("/account").status_code == 303  # this session ended too
    ui.forget_cookies()
    assert ui.log_in(email, PASSWORD).status_code != 303
    assert ui.log_in(email, "a new long one").status_code == 303
