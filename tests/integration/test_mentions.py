"""@mentions in internal notes through the API, on both databases: one notification per
mentioned agent who can see the ticket; public comments and unknown names notify nobody."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from hubdesk.config import Settings
from hubdesk.outbox.models import OutboxMessage
from tests.support.api import Api


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        smtp_host="127.0.0.1",
        _env_file=None,  # type: ignore[call-arg]
    )


def test_internal_note_mentions_notify_each_agent_once(api: Api) -> None:
    data = {
        "message_id": "<mention-1@customer.example.com>",
        "subject": "Printer broken",
        "from_address": "alice@acme.example",
        "body": "It does not print.",
    }
    made = api.ok(api.post("/api/v1/test/email-to-ticket", json={"email_data": data}))
    api.login_as("agents")
    api.login_as("readonly", [])
    me = api.ok(api.get("/api/v1/users/me", "agents"))["email"]
    nobody = api.ok(api.get("/api/v1/users/me", "readonly"))["email"]
    path = f"/api/v1/tickets/{made['ticket_id']}/comments"
    note = f"@{me.partition('@')[0]} and @{me} please; @{nobody}; @nosuchuser"
    api.ok(api.post(path, json={"body": note, "internal": True}), 201)
    api.ok(api.post(path, json={"body": f"public @{me}", "internal": False}), 201)
    with api.runtime.db.transaction(write=False) as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "notification")
        ).all()
        assert [r.recipients for r in rows] == [[me]]
        assert "Admins mentioned you" in rows[0].subject
