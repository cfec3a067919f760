"""`GET /api/v1/health` and the mail channels: degraded (still 200) when a mailbox is in
error or has not been polled successfully for HUBDESK_MAILBOX_STALE_MINUTES; unchanged when
there is no IMAP mailbox at all. Mailbox names and errors are shown to admins only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from hubdesk.channels.imap import status as mailbox_status
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
    assert api.ok(api.get("/api/v1/health")) == {"status": "ok", "database": "ok"}


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
    response = api.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["problems"] == [
        "mailbox broken: [UNAVAILABLE] Server down",
        f"mailbox orphan: not polled successfully since {long_ago.isoformat()} (over 30 min); "
        "is 'hubdesk worker' running?",
    ]
    assert body["stale_mailboxes"] == ["orphan"]
    assert [m["name"] for m in body["mailboxes"]] == ["broken", "fine", "orphan", "paused"]
    assert body["mailboxes"][1]["state"] == "ok"
    anonymous = api.client.get("/api/v1/health")
    assert anonymous.json() == {"status": "degraded", "database": "ok"}
    assert "Server down" not in anonymous.text
    agent = api.get("/api/v1/health", role="agents")
    assert agent.json() == {"status": "degraded", "database": "ok"}


def test_the_stale_threshold_is_a_setting(api: Api) -> None:
    """HUBDESK_MAILBOX_STALE_MINUTES decides when a mailbox without a successful poll is
    stale, whether or not a worker holds it (every poll may be failing), and a mailbox never
    polled counts from when it was added; it is never less than three poll intervals."""
    now = utcnow()
    _mailbox(api, "quiet", state="ok", last_success_at=now - timedelta(minutes=20))
    _mailbox(
        api,
        "held",
        state="ok",
        last_success_at=now - timedelta(minutes=20),
        lease_expires_at=now + timedelta(minutes=1),
    )
    _mailbox(api, "new", updated_at=now - timedelta(minutes=20))
    assert "stale_mailboxes" not in api.ok(api.get("/api/v1/health"))
    runtime = api.runtime
    for minutes, expected in ((10, ["held", "new", "quiet"]), (25, [])):
        stricter = runtime.settings.model_copy(update={"mailbox_stale_minutes": minutes})
        with runtime.db.transaction(write=False) as session:
            found = mailbox_status.stale_mailboxes(session, stricter, utcnow())
            assert [row.name for row in found] == expected
    slow_polls = runtime.settings.model_copy(
        update={"mailbox_stale_minutes": 10, "imap_poll_interval": 600}
    )
    assert mailbox_status.stale_threshold(slow_polls) == timedelta(minutes=30)


def test_healthy_imap_mailboxes_are_listed(api: Api) -> None:
    """A mailbox polled a moment ago: status ok, the mailbox listed with its state."""
    _mailbox(api, "support", state="ok", last_success_at=utcnow())
    body = api.ok(api.get("/api/v1/health"))
    assert body["status"] == "ok"
    assert "problems" not in body
    assert body["mailboxes"][0]["name"] == "support"
