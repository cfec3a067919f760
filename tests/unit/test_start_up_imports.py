"""What a process loads at start-up: the `hubdesk` command loads the database layer and the
web stack only inside the commands that use them, and the mail pipeline (`hubdesk ingest`,
`hubdesk worker`, `hubdesk lmtp`) never loads the web framework.

Every `hubdesk` command an MTA, a cron job or an admin starts pays for what it imports:
`hubdesk version` imported the IMAP poller, the whole pipeline and FastAPI through two
command modules (2.4 s of imports on a loaded 2-core machine, 0.9 s after; `bench/README.md`,
"Start-up"). Checked by module names, not by time, so the test cannot flake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hubdesk.db.engine import create_db_engine
from hubdesk.db.migrate import upgrade

DATABASE = ("sqlalchemy", "alembic", "psycopg")
WEB = ("fastapi", "starlette", "uvicorn", "jinja2")


def _top_level_modules_after(code: str, *, cwd: Path | None = None) -> set[str]:
    probe = f"{code}\nimport sys\nprint('MODULES', ' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=cwd,
    )
    modules = result.stdout.rsplit("MODULES ", 1)[1]
    return {name.split(".")[0] for name in modules.split()}


def test_hubdesk_version_and_help_load_no_database_and_no_web_stack() -> None:
    loaded = _top_level_modules_after(
        "from hubdesk.cli.main import app\n"
        "for argv in (['version'], ['--help'], ['mailbox', '--help'], ['worker', '--help']):\n"
        "    try:\n"
        "        app(argv, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    assert "typer" in loaded
    assert "hubdesk" in loaded
    assert loaded.isdisjoint(DATABASE + WEB), sorted(loaded & set(DATABASE + WEB))


def test_the_mail_pipeline_and_the_worker_load_no_web_framework() -> None:
    loaded = _top_level_modules_after(
        "import hubdesk.intake.bulk, hubdesk.intake.pipeline, hubdesk.channels.worker\n"
        "import hubdesk.cli.worker_commands, hubdesk.runtime"
    )
    assert "sqlalchemy" in loaded  # the probe did load the pipeline
    assert loaded.isdisjoint(WEB), sorted(loaded & set(WEB))


def test_hubdesk_ingest_checks_the_schema_without_loading_alembic(tmp_path: Path) -> None:
    """`hubdesk ingest -` runs once a message under Postfix's pipe delivery: its schema check
    reads the recorded revision itself (`hubdesk.db.schema_version`) instead of Alembic."""
    database = tmp_path / "hubdesk.db"
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    message = tmp_path / "one.eml"
    message.write_bytes(
        b"From: a@example.com\r\nSubject: hello\r\nMessage-ID: <one@example.com>\r\n\r\nhi\r\n"
    )
    loaded = _top_level_modules_after(
        "import os\n"
        f"os.environ.update(DATABASE_URL={f'sqlite:///{database}'!r}, "
        f"HUBDESK_DATA_DIR={str(tmp_path / 'data')!r}, HUBDESK_SECRET_KEY='k' * 40, "
        "MAIL_DOMAIN='support.example.com')\n"
        "from hubdesk.cli.main import app\n"
        "try:\n"
        f"    app(['ingest', '--json', {str(message)!r}], standalone_mode=False)\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n",
        cwd=tmp_path,
    )
    assert "sqlalchemy" in loaded  # the probe did reach the database
    assert "alembic" not in loaded
