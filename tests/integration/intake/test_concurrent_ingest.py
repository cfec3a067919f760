"""Two workers on the same mail make each ticket exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import mailbox
import subprocess
from pathlib import Path

from bench.mailgen import generate
from sqlalchemy import func, select

from hubdesk.config import Settings
from hubdesk.inbound.models import InboundMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Comment, EmailLog, Ticket
from tests.integration.intake.test_ingest_cli import HUBDESK
from tests.integration.intake.test_ingest_cli import run as run_cli

MESSAGES = 40


def test_two_processes_ingesting_one_mbox(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    """Both processes read the whole mbox at once: every message lands once, the other
    delivery is a recorded duplicate, and no database error leaks."""
    box = mailbox.mbox(tmp_path / "shared.mbox")
    raws = list(generate(MESSAGES, seed=7))
    for raw in raws:
        box.add(raw)
    box.flush()
    run_cli(settings, "db", "current")
    environment = {
        "DATABASE_URL": settings.database_url,
        "HUBDESK_DATA_DIR": str(settings.data_dir),
        "HUBDESK_SECRET_KEY": settings.secret_key or "",
        "PATH": "/usr/bin:/bin",
    }
    workers = [
        subprocess.Popen(
            [HUBDESK, "ingest", "--json", str(tmp_path / "shared.mbox")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            cwd=tmp_path,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()
        assert b"locked" not in err
        assert b"IntegrityError" not in err
    results = [[json.loads(line) for line in out.decode().splitlines()] for out, _ in outputs]
    for position in range(MESSAGES):
        pair = sorted(result[position]["status"] for result in results)
        assert pair.count("duplicate") == 1, (position, pair)
        assert {s for s in pair if s != "duplicate"} <= {"created", "linked"}
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 2 * MESSAGES
        assert session.scalar(select(func.count()).select_from(EmailLog)) == MESSAGES
        created = sum(1 for result in results for line in result if line["status"] == "created")
        assert session.scalar(select(func.count()).select_from(Ticket)) == created
        linked = sum(1 for result in results for line in result if line["status"] == "linked")
        assert session.scalar(select(func.count()).select_from(Comment)) == linked
        numbers = session.scalars(select(Ticket.ticket_number)).all()
        assert len(set(numbers)) == len(numbers)
