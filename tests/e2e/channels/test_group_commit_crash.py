"""A `hubdesk lmtp` SIGKILLed while eight sessions deliver at once (its deliveries sharing
group commits) loses nothing it acknowledged: every message that got its 250 has its ledger
row and its intact raw bytes after the crash, on SQLite and PostgreSQL. The kill comes from
outside at a random point (seeded, so a failure can be replayed), never from a hook."""

from __future__ import annotations

import hashlib
import random
import smtplib
import threading
from pathlib import Path

import pytest

from hubdesk.config import Settings
from hubdesk.runtime import Runtime
from tests.e2e.channels.processes import WorkerProcess, wait_for
from tests.support.dovecot import free_port
from tests.support.factories import stored_raws
from tests.support.mail import raw_mail

pytestmark = pytest.mark.e2e

RCPT = "support@support.example.com"
CLIENTS = 8


def _wire(raw: bytes) -> bytes:
    text = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return text if text.endswith(b"\r\n") else text + b"\r\n"


def _listening(port: int) -> bool:
    try:
        with smtplib.LMTP("127.0.0.1", port, timeout=2) as client:
            client.noop()
        return True
    except OSError:
        return False


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_during_group_commits_loses_nothing_acknowledged(
    settings: Settings, tmp_path: Path, seed: int
) -> None:
    chance = random.Random(seed)
    kill_after = chance.randrange(10, 60)
    port = free_port()
    worker = WorkerProcess(settings, tmp_path, "--port", str(port), command="lmtp").start()
    acked: list[bytes] = []
    lock = threading.Lock()
    enough = threading.Event()

    def deliver(client: int) -> None:
        try:
            with smtplib.LMTP("127.0.0.1", port, timeout=30) as session:
                for n in range(1000):
                    raw = _wire(raw_mail(subject=f"c{client} n{n}", message_id=f"<{client}.{n}@x>"))
                    session.sendmail("customer@example.com", [RCPT], raw)
                    with lock:
                        acked.append(raw)
                        if len(acked) >= kill_after:
                            enough.set()
        except (OSError, smtplib.SMTPException):
            return  # the receiver died under it: what was not answered 250 is the MTA's

    try:
        wait_for(lambda: _listening(port), "the LMTP listener")
        threads = [threading.Thread(target=deliver, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        assert enough.wait(120), worker.log()
        worker.kill()
        for thread in threads:
            thread.join(60)
    finally:
        worker.close()
    with lock:
        answered = list(acked)
    assert len(answered) >= kill_after
    runtime = Runtime.build(settings)
    try:
        stored = stored_raws(runtime)  # from the row or the store, checked against the sha256
        for raw in answered:
            assert stored.get(hashlib.sha256(raw).hexdigest()) == raw
    finally:
        runtime.close()
