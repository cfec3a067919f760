"""`hubdesk worker` as a whole: the receiver and IMAP polling in one real process, two
workers sharing one mailbox without importing anything twice, and `hubdesk mailbox poll`."""

from __future__ import annotations

import smtplib
from pathlib import Path

import pytest

from hubdesk.config import Settings
from hubdesk.runtime import Runtime
from tests.e2e.channels.processes import WorkerProcess, wait_for
from tests.e2e.channels.world import add_mailbox, count_tickets, deliver, flags, ledger
from tests.integration.channels.helpers import run_cli
from tests.support.dovecot import Dovecot, ImapAccount, free_port
from tests.support.mail import raw_mail

pytestmark = pytest.mark.e2e

SUPPORT = "support@support.example.com"


def test_one_worker_receives_by_lmtp_smtp_and_imap(
    imap_settings: Settings,
    imap_runtime: Runtime,
    dovecot: Dovecot,
    account: ImapAccount,
    tmp_path: Path,
) -> None:
    """Mail reaches one worker by LMTP, by SMTP and from its IMAP mailbox: three tickets,
    three ledger rows, each from its channel."""
    add_mailbox(imap_runtime, dovecot.url(account), addresses=[SUPPORT])
    deliver(dovecot, account, raw_mail(subject="By IMAP"))
    lmtp_port, smtp_port = free_port(), free_port()
    worker = WorkerProcess(
        imap_settings, tmp_path, "--lmtp-port", str(lmtp_port), "--smtp-port", str(smtp_port)
    ).start()
    try:
        wait_for(lambda: f":{smtp_port}" in worker.log(), "the listeners", every=0.1)
        with smtplib.LMTP("127.0.0.1", lmtp_port) as client:
            assert client.sendmail("a@example.com", [SUPPORT], raw_mail(subject="By LMTP")) == {}
        with smtplib.SMTP("127.0.0.1", smtp_port) as client:
            assert client.sendmail("b@example.com", [SUPPORT], raw_mail(subject="By SMTP")) == {}
        wait_for(lambda: count_tickets(imap_runtime) == 3, "three tickets", every=0.1)
        assert worker.terminate() == 0, worker.log()
    finally:
        worker.close()
    assert sorted(row.envelope["channel"] for row in ledger(imap_runtime)) == [
        "imap",
        "lmtp",
        "smtp",
    ]


def test_the_lmtp_command_runs_a_receiver_alone(
    imap_settings: Settings, imap_runtime: Runtime, tmp_path: Path
) -> None:
    """`hubdesk lmtp --smtp --port P` serves SMTP on P (and nothing else), turns what it
    receives into tickets, and stops cleanly on SIGTERM."""
    port = free_port()
    receiver = WorkerProcess(
        imap_settings, tmp_path, "--port", str(port), "--smtp", command="lmtp"
    ).start()
    try:
        wait_for(lambda: f"SMTP receiver on 127.0.0.1:{port}" in receiver.log(), "it", every=0.1)
        with smtplib.SMTP("127.0.0.1", port) as client:
            sent = client.sendmail("a@example.com", [SUPPORT], raw_mail(subject="Alone"))
        assert sent == {}
        wait_for(lambda: count_tickets(imap_runtime) == 1, "the ticket", every=0.1)
        assert receiver.terminate() == 0, receiver.log()
    finally:
        receiver.close()
    assert "LMTP receiver" not in receiver.log()


def test_two_workers_share_a_mailbox_without_importing_twice(
    imap_settings: Settings,
    imap_runtime: Runtime,
    dovecot: Dovecot,
    account: ImapAccount,
    tmp_path: Path,
) -> None:
    """Two workers start together on one mailbox: one holds its lease and polls, and every
    message is fetched once (one ledger row each, no duplicate rows)."""
    deliver(dovecot, account, *(raw_mail(subject=f"Shared {n}") for n in range(5)))
    add_mailbox(imap_runtime, dovecot.url(account))
    workers = [
        WorkerProcess(imap_settings, tmp_path, "--lmtp-port", "0", "--smtp-port", "0").start()
        for _ in range(2)
    ]
    try:
        wait_for(lambda: count_tickets(imap_runtime) == 5, "five tickets", every=0.1)
        wait_for(lambda: len(flags(dovecot, account)) == 5, "the acks", every=0.2)
        assert all(f == {"\\Seen"} for f in flags(dovecot, account).values())
        for worker in workers:
            assert worker.terminate() == 0, worker.log()
    finally:
        for worker in workers:
            worker.close()
    assert [row.status for row in ledger(imap_runtime)] == ["processed"] * 5
    assert sum("polling mailbox" in worker.log() for worker in workers) == 1


def test_mailbox_poll_command(
    imap_settings: Settings, imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """`hubdesk mailbox poll NAME` polls once and reports; a wrong password exits 1 with
    the server's words."""
    add_mailbox(imap_runtime, dovecot.url(account))
    deliver(dovecot, account, raw_mail(subject="Polled by hand"))
    result = run_cli(imap_settings, "mailbox", "poll", "support")
    assert result.returncode == 0, result.stderr
    assert b"mailbox support: 1 fetched" in result.stderr
    assert count_tickets(imap_runtime) == 1
    assert imap_settings.secrets_file is not None
    with imap_settings.secrets_file.open("a") as secrets:
        secrets.write("WRONG_PASSWORD=not-it\n")
    add_mailbox(imap_runtime, dovecot.url(account), name="wrong", password_env="WRONG_PASSWORD")
    refused = run_cli(imap_settings, "mailbox", "poll", "wrong")
    assert refused.returncode == 1
    assert b"AUTHENTICATIONFAILED" in refused.stderr
