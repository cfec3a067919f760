"""`hubdesk ingest` of a folder SIGKILLed in the middle of a bulk batch loses nothing and
duplicates nothing: run again over the same folder, every message is in the email log
exactly once, no ledger row is left `received`, and every line the killed run printed (its
acknowledgement) names a message that is in the database. Both databases.

The kill lands at seeded random moments after the first batch committed, so it hits a batch
that is open (blobs written but not flushed, rows not committed) or between batches.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

from bench.mailgen import generate
from sqlalchemy import func, select

from hubdesk.config import Settings
from hubdesk.inbound.models import InboundMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import EmailLog
from tests.e2e.channels.processes import environment
from tests.integration.intake.test_ingest_cli import HUBDESK, run


def _ledger_rows(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def test_sigkill_during_a_bulk_batch_loses_and_duplicates_nothing(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    # enough mail that the run outlasts the kill on a quiet machine too (the bulk path got
    # faster: 60 mails once finished within the random wait)
    raws = list(generate(200, seed=7))
    for number, raw in enumerate(raws):
        (folder / f"{number:03d}.eml").write_bytes(raw)
    chooser = random.Random(9)
    acknowledged: set[str] = set()
    committed_when_killed: list[int] = []
    for _attempt in range(2):
        out = tmp_path / f"killed-{_attempt}.jsonl"
        with out.open("wb") as sink:
            process = subprocess.Popen(
                [HUBDESK, "ingest", "--json", "--batch-messages", "7", str(folder)],
                stdout=sink,
                stderr=subprocess.DEVNULL,
                env=environment(settings),
                cwd=tmp_path,
            )
            start = time.monotonic()
            while _ledger_rows(runtime) == 0 and process.poll() is None:
                assert time.monotonic() - start < 120, "the first batch never committed"
                time.sleep(0.02)
            time.sleep(chooser.uniform(0.0, 0.2))
            process.send_signal(signal.SIGKILL)
            process.wait()
        committed_when_killed.append(_ledger_rows(runtime))
        acknowledged |= {
            json.loads(line)["message_id"] for line in out.read_text().splitlines() if line
        }
    assert min(committed_when_killed) < len(raws), "no kill landed before the end of the run"
    finished = run(settings, "ingest", "--json", "--batch-messages", "7", str(folder))
    assert finished.returncode == 0, finished.stderr.decode()
    with runtime.db.transaction(write=False) as session:
        logged = session.scalars(select(EmailLog.email_message_id)).all()
        left = session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.status == "received")
        )
    expected = {f"<{line}>" for line in _message_ids(raws)}
    assert sorted(logged) == sorted(expected), "each message exactly once in the email log"
    assert left == 0
    assert acknowledged <= expected


def _message_ids(raws: list[bytes]) -> list[str]:
    ids = []
    for raw in raws:
        for line in raw.split(b"\r\n\r\n", 1)[0].splitlines():
            if line.lower().startswith(b"message-id:"):
                ids.append(line.split(b":", 1)[1].strip().decode().strip("<>"))
    return ids
