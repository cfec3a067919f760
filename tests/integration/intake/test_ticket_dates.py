"""A ticket is created, and numbered, when hubdesk creates it; the mail's `received_at`
(the README's and the spec's test example: 2025-12-15) is the mail's own time, kept as the
email log's `email_received_at`, not the ticket's date (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubdesk.runtime import Runtime
from tests.support.api import Api


def test_the_readme_example_is_numbered_by_its_creation_date(api: Api, runtime: Runtime) -> None:
    before = datetime.now(UTC)
    result = api.ok(
        api.post(
            "/api/v1/test/email-to-ticket",
            json={
                "email_data": {
                    "message_id": "<test123@example.com>",
                    "subject": "Test ticket",
                    "from_address": "test@example.com",
                    "body": "This is a test #testing",
                    "received_at": "2025-12-15T10:00:00Z",
                }
            },
        )
    )
    after = datetime.now(UTC)
    ticket = api.ok(api.get(f"/api/v1/tickets/{result['ticket_id']}"))
    created = datetime.fromisoformat(ticket["created_at"])
    assert before - timedelta(seconds=1) <= created <= after + timedelta(seconds=1)
    days = {f"TKT-{moment.astimezone(runtime.settings.tz):%Y%m%d}-" for moment in (before, after)}
    assert result["ticket_number"][:13] in days
    assert not result["ticket_number"].startswith("TKT-20251215-")
    [email] = api.ok(api.get(f"/api/v1/tickets/{result['ticket_id']}/emails"))["emails"]
    assert email["email_received_at"].startswith("2025-12-15T10:00:00")
