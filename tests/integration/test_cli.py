"""The `hubdesk` console script, run as a real subprocess in an empty directory."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hubdesk import __version__
from hubdesk.config import Settings
from hubdesk.db.migrate import head_revision
from hubdesk.db.uow import Database
from hubdesk.users.models import User
from hubdesk.users.secrets import verify_password
from hubdesk.web.app import create_app
from tests.support.databases import Templates

HUBDESK = Path(sys.executable).with_name("hubdesk")
_OURS = ("DATABASE_URL", "HUBDESK_", "MAIL_", "TICKET_", "EMAIL_WORKFLOWS_")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_OURS)}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        HUBDESK_DATA_DIR=str(tmp_path / "data"),
        MAIL_DOMAIN="helpdesk.example.com",
    )
    env.update(extra)
    return env


def hubdesk(tmp_path: Path, *args: str, **env: str) -> Result:
    done = subprocess.run(
        [str(HUBDESK), *args],
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def test_version_and_migrations(tmp_path: Path) -> None:
    """`version` prints the version; `db current` says none on a new database, `db upgrade`
    brings it to head, and `db current` then prints the head revision."""
    assert hubdesk(tmp_path, "version") == Result(0, f"{__version__}\n", "")
    assert hubdesk(tmp_path, "db", "current").out.strip() == "none"
    upgraded = hubdesk(tmp_path, "db", "upgrade")
    assert upgraded.code == 0, upgraded.err
    assert hubdesk(tmp_path, "db", "current") == Result(0, f"{head_revision()}\n", "")


def test_bootstrap_user_and_token_commands(tmp_path: Path, templates: Templates) -> None:
    """`bootstrap` prints the first admin's e-mail and a working password once, and creates
    nothing on a second run; `user create` adds a user to a group; `token create` prints only
    the token, one line, and the token works against the API as that user."""
    templates.sqlite_copy(tmp_path / "cli.db")
    first = hubdesk(tmp_path, "bootstrap")
    assert first.code == 0, first.err
    assert "admin@helpdesk.example.com" in first.out
    password = next(
        line.split(":", 1)[1].strip() for line in first.out.splitlines() if "password:" in line
    )
    again = hubdesk(tmp_path, "bootstrap")
    assert again.code == 0
    assert "password" not in again.out
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cli.db'}",
        data_dir=tmp_path / "data",
        _env_file=None,  # type: ignore[call-arg]
    )
    db = Database.connect(settings.sqlalchemy_url)
    try:
        with db.transaction(write=False) as session:
            stored = session.scalars(select(User)).all()
            assert [u.email for u in stored] == ["admin@helpdesk.example.com"]
            assert verify_password(stored[0].password_hash, password)
    finally:
        db.dispose()

    created = hubdesk(
        tmp_path,
        "user",
        "create",
        "Agent@Example.com",
        "--name",
        "Agent Smith",
        "--password",
        "a long enough password",
        "--group",
        "agents",
    )
    assert created.code == 0, created.err
    token = hubdesk(tmp_path, "token", "create", "agent@example.com")
    assert token.code == 0, token.err
    assert token.out.count("\n") == 1
    secret = token.out.strip()
    assert secret.startswith("hd_")
    assert " " not in secret

    with TestClient(create_app(settings)) as client:
        me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert (me.json()["email"], me.json()["groups"]) == ("agent@example.com", ["agents"])
        allowed = client.post(
            "/api/v1/tickets",
            json={"subject": "From the CLI token"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert allowed.status_code == 201


def test_bad_input_is_refused_with_a_message(tmp_path: Path, templates: Templates) -> None:
    """Refused operations exit non-zero with a clear one-line message on stderr and nothing on
    stdout: an unknown group, a duplicate user, a token for an unknown user, a short password."""
    templates.sqlite_copy(tmp_path / "cli.db")
    made = hubdesk(tmp_path, "user", "create", "a@example.com", "--name", "A")
    assert made.code == 0
    assert "in no group" in made.err  # no --group: no permissions, as through the API
    for args, needle in (
        (
            ("user", "create", "b@example.com", "--name", "B", "--group", "gods"),
            "unknown group gods",
        ),
        (("user", "create", "A@example.com", "--name", "A again"), "already exists"),
        (("token", "create", "nobody@example.com"), "no user with e-mail nobody@example.com"),
        (("user", "create", "c@example.com", "--name", "C", "--password", "short"), "password"),
    ):
        result = hubdesk(tmp_path, *args)
        assert result.code != 0, args
        assert result.out == "", args
        assert needle in result.err, (args, result.err)
        assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/hubdesk"),
        ("HUBDESK_SECRET_KEY", "too-short"),
        ("HUBDESK_TIMEZONE", "Mars/Base"),
        ("TICKET_DEFAULT_PRIORITY", "urgent"),
        ("TICKET_DEFAULT_ASSIGNEE_ID", "abc"),
    ],
)
def test_invalid_setting_stops_the_cli_with_exit_2(tmp_path: Path, name: str, value: str) -> None:
    """An invalid setting stops a command with exit code 2 and one line on stderr naming the
    setting, with no traceback and no database touched."""
    result = hubdesk(tmp_path, "db", "current", **{name: value})
    assert result.code == 2
    assert name in result.err
    assert result.err.startswith("hubdesk: ")
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err
    assert not (tmp_path / "cli.db").exists()


def test_invalid_setting_in_dotenv_is_named_too(tmp_path: Path) -> None:
    """Settings come from `.env` in the working directory as well, validated the same way."""
    (tmp_path / ".env").write_text("HUBDESK_TIMEZONE=Europe/Atlantis\n", encoding="utf-8")
    env = {k: v for k, v in _env(tmp_path).items() if k != "MAIL_DOMAIN"}
    done = subprocess.run(
        [str(HUBDESK), "db", "current"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "HUBDESK_TIMEZONE" in done.stderr
