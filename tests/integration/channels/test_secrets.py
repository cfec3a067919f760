"""Mailbox passwords by name: the environment first, then HUBDESK_SECRETS_FILE, which must be
readable by its owner only; errors name the secret, never a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubdesk.config import Settings
from hubdesk.errors import ConfigError
from hubdesk.mailboxes import secrets


def _settings(secrets_file: Path | None) -> Settings:
    return Settings(secrets_file=secrets_file, _env_file=None)  # type: ignore[call-arg]


def _file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "secrets"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    """A name set in both places resolves to the environment's value; one only in the file
    resolves to the file's value, taken verbatim after the first '='."""
    path = _file(tmp_path, "# mailbox passwords\n\nA=from-file\nB=with=equals and spaces \n")
    settings = _settings(path)
    assert secrets.resolve("A", settings, {"A": "from-env"}) == "from-env"
    assert secrets.resolve("B", settings, {}) == "with=equals and spaces "
    assert secrets.is_available("B", settings, {})
    assert not secrets.is_available("C", settings, {})


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    """Group- or world-readable: refused with the mode and the fix, the value not read."""
    path = _file(tmp_path, "A=secret-value\n", mode)
    with pytest.raises(ConfigError) as refused:
        secrets.resolve("A", _settings(path), {})
    message = str(refused.value)
    assert f"{mode:04o}" in message
    assert f"chmod 600 {path}" in message
    assert "secret-value" not in message


def test_a_missing_secret_names_where_it_was_looked_for(tmp_path: Path) -> None:
    """The error names the secret and the places searched; a malformed line is reported by
    its number only (it may be a password pasted on its own)."""
    with pytest.raises(ConfigError, match=r"the secret A is not set in the environment$"):
        secrets.resolve("A", _settings(None), {})
    path = _file(tmp_path, "B=1\n")
    with pytest.raises(ConfigError, match=r"or HUBDESK_SECRETS_FILE \("):
        secrets.resolve("A", _settings(path), {})
    broken = _file(tmp_path, "B=1\nhunter2\n")
    with pytest.raises(ConfigError, match="line 2 is not NAME=value") as refused:
        secrets.resolve("B", _settings(broken), {})
    assert "hunter2" not in str(refused.value)
