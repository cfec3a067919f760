"""@mentions in an internal note, written in Chromium: the agent named by `@localpart` or
`@address` gets one mail in their language with the ticket's link; an agent who cannot see
tickets and the note's author get none."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.config import Settings
from hubdesk.outbox.mentions import mentioned_names
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.users.models import User
from tests.e2e.ui.conftest import LANGUAGES, log_in, speak
from tests.integration.ui.client import make_user
from tests.integration.ui.scenario import printer_ticket
from tests.support.databases import Templates

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings(templates: Templates, tmp_path: Path) -> Settings:
    """Notifications need an SMTP server configured; nothing is sent (no worker runs)."""
    return Settings(
        database_url=templates.sqlite_copy(tmp_path / "hubdesk.db"),
        data_dir=tmp_path / "data",
        secret_key="browser-test-key-" + "x" * 32,
        mail_domain="support.example.com",
        smtp_host="127.0.0.1",
        public_url="https://desk.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_mentioned_agent_is_notified_once_in_their_language(
    page: Page, server: str, runtime: Runtime, agent: str, language: str
) -> None:
    made = printer_ticket(runtime)
    dorte_id, dorte = make_user(runtime, ["agents"], name="Dorte Dansk")
    _rid, rita = make_user(runtime, [], name="Rita Nobody")
    with runtime.db.transaction() as session:
        user = session.get(User, dorte_id)
        assert user is not None
        user.language = "da"
    dorte_name = dorte.partition("@")[0]
    words = speak(runtime, agent, language)
    log_in(page, server, agent)
    page.goto(f"{server}/tickets/{made.ticket_id}")
    note = f"@{dorte_name} can you call them? Also @{rita} and @{dorte}, and me @{agent}."
    page.get_by_label("Note", exact=True).fill(note)
    page.get_by_role("button", name=words("Add note")).click()
    expect(page.get_by_role("status")).to_have_text(words("Internal note added."))
    expect(page.locator(".entry.comment.internal")).to_contain_text("can you call them?")

    with runtime.db.transaction(write=False) as session:
        rows = list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification"))
        )
        assert [r.recipients for r in rows] == [[dorte]]
        mail = rows[0].raw.decode("utf-8", "replace")
        assert "Agnes Agent nævnte dig: Printer prints blank pages" in rows[0].subject
        assert f"https://desk.example.com/tickets/{made.ticket_id}" in mail


def test_mention_tokens() -> None:
    text = "Hi @anna, see @bo@example.com. Not mail@example.com nor x@y; @anna again @Cleo."
    assert mentioned_names(text) == ["anna", "bo@example.com", "cleo"]
