"""`hubdesk lmtp` alone (no `hubdesk worker` anywhere) processes mail it accepted before a
crash or a database outage: it runs the pending job as well as the receiver."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from pathlib import Path

from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.inbound import service as inbound
from hubdesk.runtime import Runtime
from tests.e2e.channels.processes import WorkerProcess, wait_for
from tests.integration.channels.helpers import count_tickets, ledger
from tests.support.dovecot import free_port
from tests.support.mail import raw_mail


def test_lmtp_alone_processes_mail_left_received(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    """A ledger row accepted two minutes ago and never processed (the database went away
    after the 250, or the process died) becomes a ticket once `hubdesk lmtp` runs, with no
    worker; mail delivered to it meanwhile is processed as usual; SIGTERM ends it cleanly."""
    left = inbound.receive(
        runtime.db,
        runtime.blobs,
        raw_mail(subject="Accepted before the outage"),
        source="lmtp",
        received_at=utcnow() - timedelta(minutes=2),
    )
    port = free_port()
    receiver = WorkerProcess(
        settings, tmp_path, "--host", "127.0.0.1", "--port", str(port), command="lmtp"
    ).start()
    try:
        wait_for(
            lambda: {row.id: row.status for row in ledger(runtime)}.get(left) == "processed",
            "the row left received to be processed",
        )
        wait_for(lambda: _answers(port), "the LMTP listener")
        with smtplib.LMTP("127.0.0.1", port) as client:
            client.sendmail(
                "customer@example.com",
                ["support@support.example.com"],
                raw_mail(subject="After the outage"),
            )
        wait_for(lambda: count_tickets(runtime) == 2, "the second ticket")
        assert receiver.terminate() == 0, receiver.log()
    finally:
        receiver.close()
    assert all(row.status == "processed" for row in ledger(runtime))


def _answers(port: int) -> bool:
    try:
        with smtplib.LMTP("127.0.0.1", port) as client:
            return client.noop()[0] == 250
    except OSError:
        return False
