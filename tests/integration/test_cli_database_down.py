"""The `db` and `bootstrap` commands with the database out of reach: one sentence, exit 75.

75 is EX_TEMPFAIL: a deploy script or a systemd unit retries later instead of treating it
as a broken installation. No traceback reaches the terminal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli import hubdesk

CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/hubdesk"
COMMANDS = (("db", "upgrade"), ("db", "current"), ("bootstrap",))


def _unwritable_sqlite(tmp_path: Path) -> str:
    # A regular file where a directory should be: no user (root included) can create it.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    return f"sqlite:///{blocker / 'hubdesk.db'}"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("where", ["postgresql-closed-port", "sqlite-unwritable"])
def test_database_out_of_reach_is_one_sentence_and_exit_75(
    tmp_path: Path, command: tuple[str, ...], where: str
) -> None:
    url = CLOSED_PORT_URL if where == "postgresql-closed-port" else _unwritable_sqlite(tmp_path)
    result = hubdesk(tmp_path, *command, DATABASE_URL=url)
    assert result.code == 75, result.err
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("hubdesk: the database is unavailable")
    assert result.out == ""
