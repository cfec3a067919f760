"""RELIABILITY T42 (a) and (e): several `hubdesk worker` processes against one database.

(a) N worker processes, each receiving M new-ticket mails over its own LMTP listener at the
same time, all of them processing the shared ledger (`inbound.claim_received`): every mail
is kept and processed once (0 lost, 0 duplicated), N x M tickets with unique numbers, and no
IntegrityError or `database is locked` in any worker's log. `make test` runs 2 x 150 on
SQLite and PostgreSQL; `make test-long` runs 8 x 2,000 on both.

(e) A soak (`make test-long`, 30 minutes, HUBDESK_SOAK_SECONDS to change): one worker fed at
a steady rate over LMTP, 1 % of the mail malformed; the queue keeps draining, every malformed
mail is quarantined and every well-formed one processed, p95 from receipt to processed is
at most 5 s, and the worker's resident memory after warm-up grows by at most 10 %.
No assertion here is about absolute speed: sizes and counts only (the soak's bounds are
RELIABILITY's figures and run in `make test-long` only).
"""

from __future__ import annotations

import os
import smtplib
import statistics
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hubdesk.config import Settings
from hubdesk.inbound.models import InboundMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.e2e.channels.processes import WorkerProcess, wait_for
from tests.support.dovecot import free_port
from tests.support.mail import deeply_nested, raw_mail

pytestmark = pytest.mark.e2e

RCPT = "support@support.example.com"
LEAKED = ("IntegrityError", "database is locked", "Traceback")


def _listening(port: int) -> bool:
    try:
        with smtplib.LMTP("127.0.0.1", port, timeout=2) as client:
            client.noop()
        return True
    except OSError:
        return False


def _workers(settings: Settings, tmp_path: Path, count: int) -> list[tuple[WorkerProcess, int]]:
    started = []
    for _ in range(count):
        port = free_port()
        worker = WorkerProcess(
            settings, tmp_path, "--lmtp-port", str(port), "--smtp-port", "0"
        ).start()
        started.append((worker, port))
    for _worker, port in started:
        wait_for(lambda port=port: _listening(port), f"worker on {port}", timeout=120)
    return started


def _new_ticket_mail(worker: int, n: int) -> bytes:
    return raw_mail(
        subject=f"Printer {worker}-{n} is broken",
        sender=f"customer{worker}x{n}@example.com",
        message_id=f"<w{worker}n{n}@mail.example.com>",
        body=f"Request {n} through worker {worker}.",
    )


def _deliver(port: int, mails: list[bytes], refused: list[bytes]) -> None:
    with smtplib.LMTP("127.0.0.1", port, timeout=120) as client:
        for raw in mails:
            try:
                client.sendmail("customer@example.com", [RCPT], raw)
            except smtplib.SMTPDataError:  # 4xx: an MTA would retry; so does the test
                refused.append(raw)


def _unsettled(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).where(InboundMessage.status == "received")) or 0


def _many_workers(settings: Settings, tmp_path: Path, workers: int, each: int) -> None:
    started = _workers(settings, tmp_path, workers)
    runtime = Runtime.build(settings)
    try:
        refused: list[bytes] = []
        threads = [
            threading.Thread(
                target=_deliver,
                args=(port, [_new_ticket_mail(w, n) for n in range(each)], refused),
            )
            for w, (_worker, port) in enumerate(started)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for raw in list(refused):  # the retry an MTA makes
            _deliver(started[0][1], [raw], [])
        total = workers * each
        wait_for(
            lambda: _stored(runtime) == total and _unsettled(runtime) == 0,
            f"{total} mails processed",
            timeout=120 + total * 0.5,
            every=1.0,
        )
        with runtime.db.transaction(write=False) as session:
            statuses = session.execute(
                select(InboundMessage.status, func.count()).group_by(InboundMessage.status)
            ).all()
            numbers = session.scalars(select(Ticket.ticket_number)).all()
            subjects = session.scalars(select(Ticket.subject)).all()
        assert dict(statuses) == {"processed": total}  # 0 lost, none failed or duplicate
        assert len(numbers) == total
        assert len(set(numbers)) == total  # ticket numbers unique
        assert len(set(subjects)) == total  # one ticket per mail: 0 duplicated
        for worker, _port in started:
            assert worker.terminate() == 0
            log = worker.log()
            assert not [word for word in LEAKED if word in log], log[-3000:]
    finally:
        for worker, _port in started:
            worker.close()
        runtime.close()


def _stored(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def test_two_workers_share_the_mail_without_loss_or_duplicates(
    settings: Settings, tmp_path: Path
) -> None:
    _many_workers(settings, tmp_path, workers=2, each=150)


@pytest.mark.long
def test_eight_workers_times_two_thousand(settings: Settings, tmp_path: Path) -> None:
    _many_workers(settings, tmp_path, workers=8, each=2000)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.mark.long
def test_soak_queue_drains_and_memory_stays_flat(settings: Settings, tmp_path: Path) -> None:
    seconds = float(os.environ.get("HUBDESK_SOAK_SECONDS", "1800"))
    rate = 20.0  # messages a second (RELIABILITY T42 e)
    ((worker, port),) = _workers(settings, tmp_path, 1)
    runtime = Runtime.build(settings)
    assert worker.process is not None
    pid = worker.process.pid
    samples: list[tuple[float, int]] = []
    malformed = well_formed = 0
    try:
        start = time.monotonic()
        with smtplib.LMTP("127.0.0.1", port, timeout=120) as client:
            n = 0
            while (now := time.monotonic()) - start < seconds:
                if n % 100 == 99:
                    raw, malformed = deeply_nested(60, tag=f"soak{n}"), malformed + 1
                else:
                    raw, well_formed = _new_ticket_mail(0, n), well_formed + 1
                client.sendmail("customer@example.com", [RCPT], raw)
                n += 1
                if not samples or now - samples[-1][0] >= 30:
                    samples.append((now - start, _rss_kib(pid)))
                time.sleep(max(0.0, start + n / rate - time.monotonic()))
        total = malformed + well_formed
        wait_for(
            lambda: _stored(runtime) == total and _unsettled(runtime) == 0,
            "the queue to drain",
            timeout=600,
            every=1.0,
        )
        samples.append((time.monotonic() - start, _rss_kib(pid)))
        with runtime.db.transaction(write=False) as session:
            statuses = dict(
                session.execute(
                    select(InboundMessage.status, func.count()).group_by(InboundMessage.status)
                ).all()
            )
            latencies = [
                (processed - received).total_seconds()
                for received, processed in session.execute(
                    select(InboundMessage.received_at, InboundMessage.processed_at)
                ).all()
            ]
        assert statuses == {"processed": well_formed, "quarantined": malformed}
        p95 = statistics.quantiles(latencies, n=20)[-1]
        assert p95 <= 5.0, f"p95 from receipt to processed {p95:.2f} s"
        warm = [rss for at, rss in samples if at >= min(300.0, seconds / 3)]
        assert warm[-1] <= warm[0] * 1.10, f"RSS (KiB) over time: {samples}"
        assert worker.terminate() == 0
    finally:
        worker.close()
        runtime.close()
