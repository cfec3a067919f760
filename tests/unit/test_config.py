"""Settings: an invalid value stops start-up with one sentence naming the setting, and the
generated secret key is created once, private, and agreed on by processes starting together."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from hubdesk.config import Settings, load_settings, resolve_secret_key
from hubdesk.errors import ConfigError
from tests.support.processes import run_together
from tests.support.workers import resolve_key

_OURS = ("DATABASE_URL", "HUBDESK_", "MAIL_", "TICKET_", "EMAIL_WORKFLOWS_")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No hubdesk variables in the environment and an empty working directory (no .env)."""
    for name in list(os.environ):
        if name.upper().startswith(_OURS):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_keep_email_to_ticket_working(clean_env: Path) -> None:
    """With nothing configured hubdesk runs on SQLite in the working directory, numbers
    tickets in Copenhagen time and uses normal priority."""
    settings = load_settings()
    assert settings.database_url == "sqlite:///./hubdesk.db"
    assert settings.is_sqlite
    assert (settings.timezone, settings.ticket_default_priority) == ("Europe/Copenhagen", "normal")
    assert settings.secret_key is None
    assert settings.ticket_default_assignee_id is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/hubdesk"),
        ("DATABASE_URL", "sqlite:relative.db"),
        ("HUBDESK_SECRET_KEY", "too-short"),
        ("HUBDESK_TIMEZONE", "Mars/Base"),
        ("HUBDESK_TIMEZONE", "../../etc/passwd"),
        ("TICKET_DEFAULT_PRIORITY", "urgent"),
        ("TICKET_DEFAULT_ASSIGNEE_ID", "abc"),
        ("TICKET_ENABLED", "maybe"),
        ("MAIL_DOMAIN", "support@example.com"),
        ("HUBDESK_BLOB_URL", "http://bucket/prefix"),
        ("HUBDESK_BLOB_URL", "s3://Not_A_Bucket/prefix"),
        ("HUBDESK_BLOB_URL", "s3://bucket/../elsewhere"),
        ("HUBDESK_BLOB_URL", "s3://bucket/prefix?versionId=1"),
        ("HUBDESK_BLOB_ENDPOINT", "ftp://127.0.0.1:9000"),
        ("HUBDESK_BLOB_REGION", "EU Central"),
        ("HUBDESK_INGEST_PARSE_WORKERS", "-1"),
    ],
)
def test_invalid_setting_is_one_sentence_naming_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """`load_settings` raises ConfigError whose message is one sentence that names the
    environment variable and what it accepts."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(f"Setting {name} is invalid")
    assert message.count("Setting ") == 1
    assert message.endswith(".")
    assert "\n" not in message


def test_settings_come_from_dotenv_and_the_environment_wins(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.env` in the working directory is read; a variable in the environment overrides it."""
    (clean_env / ".env").write_text(
        "TICKET_DEFAULT_PRIORITY=high\nHUBDESK_TIMEZONE=UTC\n", encoding="utf-8"
    )
    assert load_settings().ticket_default_priority == "high"
    monkeypatch.setenv("TICKET_DEFAULT_PRIORITY", "low")
    settings = load_settings()
    assert (settings.ticket_default_priority, settings.timezone) == ("low", "UTC")


def test_bad_values_do_not_echo_secrets(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The message for a bad secret key or database URL names the setting without repeating
    the secret or the password (start-up errors end up in logs)."""
    monkeypatch.setenv("HUBDESK_SECRET_KEY", "hunter2-is-my-key")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "HUBDESK_SECRET_KEY" in str(raised.value)
    assert "hunter2" not in str(raised.value)
    monkeypatch.delenv("HUBDESK_SECRET_KEY")
    monkeypatch.setenv("DATABASE_URL", "mysql://root:s3cr3t-pw@db.example.com/hubdesk")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "DATABASE_URL" in str(raised.value)
    assert "db.example.com" in str(raised.value)
    assert "s3cr3t-pw" not in str(raised.value)


def test_postgresql_urls_are_driven_by_psycopg(clean_env: Path) -> None:
    """A plain postgresql:// URL is handed to SQLAlchemy as postgresql+psycopg://."""
    settings = load_settings(database_url="postgresql://hub@db.example.com/hubdesk")
    assert settings.sqlalchemy_url == "postgresql+psycopg://hub@db.example.com/hubdesk"
    assert not settings.is_sqlite


def _settings(data_dir: Path, secret_key: str | None = None) -> Settings:
    return Settings(data_dir=data_dir, secret_key=secret_key, _env_file=None)  # type: ignore[call-arg]


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    """Without a configured key, one is generated in the data directory with mode 0600 (the
    directory 0700, even with a permissive umask) and the same key is returned afterwards; a
    configured key wins and writes nothing."""
    data_dir = tmp_path / "data"
    old_umask = os.umask(0)
    try:
        key = resolve_secret_key(_settings(data_dir))
    finally:
        os.umask(old_umask)
    assert len(key) >= 32
    key_file = data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert key_file.read_text(encoding="ascii").strip() == key
    assert resolve_secret_key(_settings(data_dir)) == key
    configured = "c" * 40
    other_dir = tmp_path / "other"
    assert resolve_secret_key(_settings(other_dir, configured)) == configured
    assert not other_dir.exists()


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    """Eight processes resolving the key of one empty data directory at the same moment all
    get the same key, and it is the one in the file."""
    data_dir = tmp_path / "data"
    keys = run_together(resolve_key, [(str(data_dir),)] * 8)
    assert len(set(keys)) == 1
    assert (data_dir / "secret_key").read_text(encoding="ascii").strip() == keys[0]
