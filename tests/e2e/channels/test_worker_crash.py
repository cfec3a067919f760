"""T39 with a real `hubdesk worker`: SIGKILLed between fetch and commit, or between commit
and acknowledgement, it loses nothing and duplicates nothing when started again.

The worker is stopped at the chosen point from outside, never by a hook in its code: the
test holds the lock a new ledger row needs, so the worker fetches the message (its raw bytes
appear in the blob store) and then waits for the database; for the second point the test
also freezes (SIGSTOP) the Dovecot process serving the worker, so once the ledger row has
committed the worker's \\Seen never reaches the server. The restarted worker is stopped
with SIGTERM and must exit cleanly, releasing its lease.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hubdesk.config import Settings
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from tests.e2e.channels.processes import (
    WorkerProcess,
    expire_lease,
    ledger_insert_lock,
    wait_for,
)
from tests.e2e.channels.world import (
    add_mailbox,
    channel_settings,
    count_tickets,
    deliver,
    flags,
    ledger,
)
from tests.support.dovecot import Dovecot, ImapAccount, free_port
from tests.support.mail import raw_mail
from tests.support.tls import Certificates

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker_settings(
    settings: Settings, tmp_path: Path, certificates: Certificates, account: ImapAccount
) -> Settings:
    """SQLite and PostgreSQL (this is about the database's commit)."""
    return channel_settings(settings, tmp_path, certificates, account)


@pytest.fixture
def worker_runtime(worker_settings: Settings) -> Iterator[Runtime]:
    built = Runtime.build(worker_settings)
    yield built
    built.close()


def _worker(settings: Settings, tmp_path: Path) -> WorkerProcess:
    return WorkerProcess(
        settings, tmp_path, "--lmtp-port", str(free_port()), "--smtp-port", "0"
    ).start()


def _polled_once(runtime: Runtime, mailbox_id: int) -> bool:
    with runtime.db.transaction(write=False) as session:
        mailbox = session.get(Mailbox, mailbox_id)
        return mailbox is not None and mailbox.last_success_at is not None


def _blob(settings: Settings, raw: bytes) -> Path:
    digest = hashlib.sha256(raw).hexdigest()
    return settings.data_dir / "blobs" / digest[:2] / digest[2:4] / digest


def _acked(dovecot: Dovecot, account: ImapAccount) -> bool:
    return flags(dovecot, account) == {1: {"\\Seen"}}


def _statuses(runtime: Runtime) -> list[str]:
    return [row.status for row in ledger(runtime)]


def test_killed_between_fetch_and_commit(
    worker_settings: Settings,
    worker_runtime: Runtime,
    dovecot: Dovecot,
    account: ImapAccount,
    tmp_path: Path,
) -> None:
    """Killed after fetching, before the ledger commit: no row, the message still unread on
    the server; the next worker imports it exactly once and only then marks it \\Seen."""
    mailbox_id = add_mailbox(worker_runtime, dovecot.url(account))
    raw = raw_mail(subject="Survives a crash before commit")
    first = _worker(worker_settings, tmp_path)
    try:
        wait_for(lambda: _polled_once(worker_runtime, mailbox_id), "the first poll")
        with ledger_insert_lock(worker_settings):
            deliver(dovecot, account, raw)
            wait_for(_blob(worker_settings, raw).exists, "the worker to fetch the message")
            first.kill()
    finally:
        first.close()
    assert ledger(worker_runtime) == []
    assert flags(dovecot, account) == {1: set()}
    expire_lease(worker_runtime, mailbox_id)
    second = _worker(worker_settings, tmp_path)
    try:
        wait_for(lambda: _acked(dovecot, account), "the message to be acked", every=0.2)
        assert second.terminate() == 0, second.log()
    finally:
        second.close()
    assert _statuses(worker_runtime) == ["processed"]
    assert count_tickets(worker_runtime) == 1
    _assert_stopped_cleanly(worker_runtime, second)


def test_killed_between_commit_and_acknowledgement(
    worker_settings: Settings,
    worker_runtime: Runtime,
    dovecot: Dovecot,
    account: ImapAccount,
    tmp_path: Path,
) -> None:
    """Killed after the message became a ticket, before \\Seen reached the server: the next
    worker finds the message in the ledger by its IMAP URL and acknowledges it without
    fetching it again: one ledger row, one ticket."""
    mailbox_id = add_mailbox(worker_runtime, dovecot.url(account))
    raw = raw_mail(subject="Survives a crash before the ack")
    first = _worker(worker_settings, tmp_path)
    frozen: list[int] = []
    try:
        wait_for(lambda: _polled_once(worker_runtime, mailbox_id), "the first poll")
        with ledger_insert_lock(worker_settings):
            deliver(dovecot, account, raw)
            wait_for(_blob(worker_settings, raw).exists, "the worker to fetch the message")
            frozen = dovecot.session_pids(account)
            assert frozen, "the worker's IMAP session"
            for pid in frozen:
                os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: _statuses(worker_runtime) == ["processed"], "the ticket")
        first.kill()
    finally:
        first.close()
        for pid in frozen:
            os.kill(pid, signal.SIGKILL)
    assert count_tickets(worker_runtime) == 1
    assert flags(dovecot, account) == {1: set()}
    expire_lease(worker_runtime, mailbox_id)
    second = _worker(worker_settings, tmp_path)
    try:
        wait_for(lambda: _acked(dovecot, account), "the message to be acked", every=0.2)
        assert second.terminate() == 0, second.log()
    finally:
        second.close()
    assert _statuses(worker_runtime) == ["processed"]
    assert count_tickets(worker_runtime) == 1
    _assert_stopped_cleanly(worker_runtime, second)


def _assert_stopped_cleanly(runtime: Runtime, worker: WorkerProcess) -> None:
    """After SIGTERM the worker said so, and gave its lease back: another worker may take
    the mailbox at once instead of waiting for the lease to expire."""
    assert "worker stopped" in worker.log()
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(Mailbox.lease_holder)) is None
