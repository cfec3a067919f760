"""A misspelled TICKET_/HUBDESK_/SMTP_ name is named at start-up with the nearest setting,
and TICKET_AUTO_ASSIGN=true without an assignee stops start-up with a sentence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubdesk.config import load_settings, unknown_settings
from hubdesk.errors import ConfigError
from tests.integration.test_cli import _OURS, hubdesk


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.upper().startswith((*_OURS, "SMTP_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_typos_in_dotenv_and_environment_are_named_with_the_nearest_setting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text(
        "TICKET_AUTO_ASIGN=true\nHUBDESK_TIMEZONE=Europe/Copenhagen\nOTHER_APP_KEY=1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SMTP_HOTS", "mail.example.com")
    monkeypatch.setenv("HUBDESK_ARTIFACTS_DIR", "/tmp/x")
    monkeypatch.setenv("HUBDESK_FROBNICATE", "1")
    warned: list[str] = []
    settings = load_settings(warn=warned.append)
    assert settings.ticket_auto_assign is False
    assert warned == [
        "HUBDESK_FROBNICATE (in the environment) is not a hubdesk setting and is ignored; "
        "see docs/configuration.md",
        "SMTP_HOTS (in the environment) is not a hubdesk setting and is ignored; "
        "did you mean SMTP_HOST?",
        "TICKET_AUTO_ASIGN (in .env) is not a hubdesk setting and is ignored; "
        "did you mean TICKET_AUTO_ASSIGN?",
    ]


def test_known_names_give_no_warning(clean_env: Path) -> None:
    environ = {"SMTP_HOST": "x", "TICKET_REOPEN_DAYS": "3", "HUBDESK_DATA_DIR": "d", "PATH": "/"}
    assert unknown_settings(environ, None) == []


def test_auto_assign_without_an_assignee_is_refused(clean_env: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(ticket_auto_assign=True)
    assert str(refused.value) == (
        "Setting TICKET_AUTO_ASSIGN=true needs TICKET_DEFAULT_ASSIGNEE_ID, the user id new "
        "tickets from mail are assigned to, or TICKET_AUTO_ASSIGN_GROUP, the group whose "
        "available agents share them; set one, or set TICKET_AUTO_ASSIGN=false."
    )
    assert load_settings(ticket_auto_assign=True, ticket_auto_assign_group="Support")
    assert load_settings(ticket_auto_assign=True, ticket_default_assignee_id=4).ticket_auto_assign


def test_the_cli_warns_at_start_up_and_refuses_auto_assign(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TICKET_REOPEN_DAIS=5\n", encoding="utf-8")
    warned = hubdesk(tmp_path, "db", "current")
    assert warned.code == 0, warned.err
    assert (
        "hubdesk: warning: TICKET_REOPEN_DAIS (in .env) is not a hubdesk setting and is "
        "ignored; did you mean TICKET_REOPEN_DAYS?"
    ) in warned.err
    refused = hubdesk(tmp_path, "db", "current", TICKET_AUTO_ASSIGN="true")
    assert refused.code == 2
    assert "TICKET_AUTO_ASSIGN=true needs TICKET_DEFAULT_ASSIGNEE_ID" in refused.err
