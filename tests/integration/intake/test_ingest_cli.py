"""`hubdesk ingest`, `parse`, `plan`, `reprocess` and `purge` through the real console script."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
from pathlib import Path

from hubdesk.config import Settings
from tests.support.mail import deeply_nested, raw_mail
from tests.unit.mail.test_parse import CONTRACT_KEYS

HUBDESK = str(Path(sys.executable).parent / "hubdesk")


def run(
    settings: Settings, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "HUBDESK_DATA_DIR": str(settings.data_dir),
        "HUBDESK_SECRET_KEY": settings.secret_key or "",
        "MAIL_DOMAIN": settings.mail_domain,
        **(env or {}),
    }
    return subprocess.run(
        [HUBDESK, *args],
        input=stdin,
        capture_output=True,
        env=environment,
        cwd=settings.data_dir.parent,
        timeout=120,
        check=False,
    )


def lines(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_ingest_files_folders_mbox_maildir_and_stdin(settings: Settings, tmp_path: Path) -> None:
    """Every kind of input is read in order; --json prints one line per message with the
    source as given (mbox messages as path#N) and nothing else on stdout."""
    single = tmp_path / "one.txt"
    single.write_bytes(
        b"From sender@example.com Mon Dec 15 10:00:00 2025\n" + raw_mail(subject="file")
    )
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "b.eml").write_bytes(raw_mail(subject="second in folder"))
    (folder / "a.eml").write_bytes(raw_mail(subject="first in folder"))
    box = mailbox.mbox(tmp_path / "archive.mbox")
    for subject in ("mbox one", "mbox two"):
        box.add(raw_mail(subject=subject))
    box.flush()
    maildir = mailbox.Maildir(tmp_path / "Maildir")
    maildir.add(raw_mail(subject="in maildir"))
    maildir.flush()
    result = run(
        settings,
        "ingest",
        "--json",
        str(single),
        str(folder),
        str(tmp_path / "archive.mbox"),
        str(tmp_path / "Maildir"),
        "-",
        stdin=raw_mail(subject="from stdin"),
    )
    assert result.returncode == 0, result.stderr
    out = lines(result)
    assert [o["status"] for o in out] == ["created"] * 7
    sources = [o["source"] for o in out]
    assert sources[:3] == [str(single), str(folder / "a.eml"), str(folder / "b.eml")]
    assert sources[3:5] == [f"{tmp_path / 'archive.mbox'}#1", f"{tmp_path / 'archive.mbox'}#2"]
    assert str(sources[5]).startswith(f"{tmp_path / 'Maildir'}#")
    assert sources[6] == "-"
    numbers = [str(o["ticket_number"]) for o in out]
    assert numbers == sorted(numbers)
    assert set(out[0]) == {"source", "message_id", "status", "ticket_id", "ticket_number", "reason"}


def test_ingest_reports_duplicates_and_quarantine(settings: Settings, tmp_path: Path) -> None:
    """Re-ingesting a file is a duplicate; a poison message is quarantined; exit stays 0."""
    good = tmp_path / "good.eml"
    good.write_bytes(raw_mail())
    poison = tmp_path / "poison.eml"
    poison.write_bytes(deeply_nested(60))
    first = run(settings, "ingest", "--json", str(good), str(poison))
    again = run(settings, "ingest", "--json", str(good))
    assert [o["status"] for o in lines(first)] == ["created", "quarantined"]
    assert lines(again)[0]["status"] == "duplicate"
    assert first.returncode == 0
    assert again.returncode == 0


def test_ingest_exits_75_when_the_database_is_down(settings: Settings, tmp_path: Path) -> None:
    """An MTA piping to `hubdesk ingest -` gets EX_TEMPFAIL and retries later."""
    message = tmp_path / "m.eml"
    message.write_bytes(raw_mail())
    result = run(
        settings,
        "ingest",
        str(message),
        env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
    )
    assert result.returncode == 75
    assert b"unavailable" in result.stderr


def test_ingest_refuses_a_missing_path(settings: Settings) -> None:
    """A path that does not exist is a usage error naming the path."""
    result = run(settings, "ingest", "/nonexistent/mail.eml")
    assert result.returncode == 2
    assert b"/nonexistent/mail.eml" in result.stderr


def test_ingest_refuses_when_integration_is_off(settings: Settings, tmp_path: Path) -> None:
    """TICKET_EMAIL_INTEGRATION=false: a clear refusal, nothing stored."""
    message = tmp_path / "m.eml"
    message.write_bytes(raw_mail())
    result = run(settings, "ingest", str(message), env={"TICKET_EMAIL_INTEGRATION": "false"})
    assert result.returncode == 2
    assert b"TICKET_EMAIL_INTEGRATION" in result.stderr


def test_parse_prints_the_contract_without_touching_anything(tmp_path: Path) -> None:
    """`hubdesk parse FILE --json` prints the documented keys and creates no file."""
    message = tmp_path / "m.eml"
    message.write_bytes(
        raw_mail(
            subject="Re: [EXTERNAL] Printer",
            cc=["x@example.com"],
            attachments=[("r.pdf", "application/pdf", b"%PDF-1.4 data")],
        )
    )
    before = set(tmp_path.iterdir())
    result = subprocess.run(
        [HUBDESK, "parse", str(message), "--json"],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "DATABASE_URL": "sqlite:///./never.db"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) >= CONTRACT_KEYS
    assert document["subject_normalized"] == "Printer"
    assert document["from"] == {"name": "", "email": "customer@example.com"}
    assert document["attachments"][0]["filename"] == "r.pdf"
    assert set(tmp_path.iterdir()) == before


def test_plan_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    """`hubdesk plan` says what would happen and leaves the ledger empty."""
    message = tmp_path / "m.eml"
    message.write_bytes(raw_mail(subject="URGENT: server down", body="#server"))
    run(settings, "db", "current")
    result = run(settings, "plan", str(message), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["would"] == "create"
    assert document["priority"] == "critical"
    assert document["tags"] == ["server"]
    listed = run(settings, "ingest", "--json", str(message))
    assert lines(listed)[0]["status"] == "created"


def test_reprocess_and_purge(settings: Settings, tmp_path: Path) -> None:
    """`hubdesk reprocess --quarantined` re-runs quarantined mail; `purge` keeps it."""
    poison = tmp_path / "poison.eml"
    poison.write_bytes(deeply_nested(60))
    run(settings, "ingest", str(poison))
    again = run(settings, "reprocess", "--quarantined", "--json", env={"MAIL_MAX_DEPTH": "100"})
    assert again.returncode == 0, again.stderr
    assert lines(again)[0]["status"] == "created"
    purged = run(settings, "purge", "--days", "1")
    assert purged.returncode == 0
    assert b"purged the raw bytes of 0 message(s)" in purged.stderr
    usage = run(settings, "reprocess")
    assert usage.returncode == 2
