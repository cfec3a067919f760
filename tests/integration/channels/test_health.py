"""`GET /api/v1/health` and the mail channels: degraded (still 200) when a mailbox is in
error or no worker polls it; unchanged when there is no IMAP mailbox at all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from hubdesk.db.types import utcnow
from hubdesk.mailboxes.models import Mailbox
from tests.support.api import Api

IMAP = {
    "imap_url": "imaps://support@imap.example.com/INBOX",
    "password_env": "SUPPORT_IMAP_PASSWORD",
}


def _mailbox(api: Api, name: str, **fields: Any) -> None:
    body = {"name": name, "addresses": [f"{name}@support.example.com"], **IMAP}
    mailbox_id = api.ok(api.post("/api/v1/mailboxes", json=body), 201)["id"]
    with api.runtime.db.transaction() as session:
        session.execute(update(Mailbox).where(Mailbox.id == mailbox_id).values(**fields))


def test_a_receive_only_mailbox_changes_nothing(api: Api) -> None:
    """Mailboxes without IMAP have nothing to report: the answer stays the plain one."""
    api.ok(
        api.post(
            "/api/v1/mailboxes", json={"name": "local", "addresses": ["a@support.example.com"]}
        ),
        201,
    )
    assert api.ok(api.client.get("/api/v1/health")) == {"status": "ok", "database": "ok"}


def test_mailbox_problems_make_health_degraded_not_down(api: Api) -> None:
    """One mailbox in error (with the server's words), one no worker has polled for long,
    one fine, one disabled in error: 200, degraded, exactly the two problems listed."""
    now = utcnow()
    long_ago = now - timedelta(hours=2)
    _mailbox(
        api, "broken", state="error", last_error="[UNAVAILABLE] Server down", last_error_at=now
    )
    _mailbox(api, "orphan", state="ok", last_success_at=long_ago, updated_at=long_ago)
    _mailbox(
        api, "fine", state="ok", last_success_at=now, lease_expires_at=now + timedelta(minutes=1)
    )
    _mailbox(api, "paused", enabled=False, state="error", last_error="old news")
    response = api.client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["problems"] == [
        "mailbox broken: [UNAVAILABLE] Server down",
        f"mailbox orphan: not polled since {long_ago.isoformat()}; is 'hubdesk worker' running?",
    ]
    assert [m["name"] for m in body["mailboxes"]] == ["broken", "fine", "orphan", "paused"]
    assert body["mailboxes"][1]["state"] == "ok"


def test_healthy_imap_mailboxes_are_listed(api: Api) -> None:
    """A mailbox polled a moment ago: status ok, the mailbox listed with its state."""
    _mailbox(api, "support", state="ok", last_success_at=utcnow())
    body = api.ok(api.client.get("/api/v1/health"))
    assert body["status"] == "ok"
    assert "problems" not in body
    assert body["mailboxes"][0]["name"] == "support"
