"""Real `hubdesk worker` processes for the crash and shutdown tests, and the database locks
a test holds to stop a worker at a chosen point (its next write waits for the lock)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import update
from sqlalchemy.engine import make_url

from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from tests.integration.channels.helpers import HUBDESK


def wait_for(
    condition: Callable[[], object], what: str, timeout: float = 30.0, every: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def environment(settings: Settings) -> dict[str, str]:
    """The settings as the environment of a child process."""
    values = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": settings.database_url,
        "HUBDESK_DATA_DIR": str(settings.data_dir),
        "HUBDESK_SECRET_KEY": settings.secret_key or "",
        "MAIL_DOMAIN": settings.mail_domain,
        "IMAP_POLL_INTERVAL": str(settings.imap_poll_interval),
        "IMAP_TIMEOUT": str(settings.imap_timeout),
        "MAILBOX_LEASE_SECONDS": str(settings.mailbox_lease_seconds),
    }
    if settings.imap_ca_file is not None:
        values["IMAP_CA_FILE"] = str(settings.imap_ca_file)
    if settings.secrets_file is not None:
        values["HUBDESK_SECRETS_FILE"] = str(settings.secrets_file)
    if settings.blob_url is not None:  # the object store, its credentials by reference
        values["HUBDESK_BLOB_URL"] = settings.blob_url
        for name, variable in (
            ("HUBDESK_BLOB_ENDPOINT", settings.blob_endpoint),
            ("HUBDESK_BLOB_REGION", settings.blob_region),
            ("HUBDESK_BLOB_ACCESS_KEY_ENV", settings.blob_access_key_env),
            ("HUBDESK_BLOB_SECRET_KEY_ENV", settings.blob_secret_key_env),
        ):
            if variable is not None:
                values[name] = variable
        for named in (settings.blob_access_key_env, settings.blob_secret_key_env):
            if named is not None and named in os.environ:
                values[named] = os.environ[named]
    return values


def _handles_sigterm(pid: int) -> bool:
    """Whether the process has a SIGTERM handler in place (Linux: SigCgt in /proc/PID/status;
    where there is no /proc, assumed)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return True


class WorkerProcess:
    """`hubdesk worker ARGS` (or another long-running command) in a child process, its
    output kept in a file."""

    def __init__(
        self, settings: Settings, directory: Path, *args: str, command: str = "worker"
    ) -> None:
        self.settings, self.directory, self.args = settings, directory, args
        self.command = command
        self.output = directory / f"worker-{time.monotonic_ns()}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with self.output.open("wb") as sink:
            self.process = subprocess.Popen(
                [HUBDESK, self.command, *self.args],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=environment(self.settings),
                cwd=self.directory,
            )
        return self

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM, and the exit status once it has shut down. The signal is sent once the
        process handles it: a worker still importing on a busy machine (one that had nothing
        to do yet, such as the second of two on one mailbox) would be killed by it (-15)
        instead of stopping cleanly."""
        process = self.process
        assert process is not None
        wait_for(
            lambda: process.poll() is not None or _handles_sigterm(process.pid),
            "the process to handle SIGTERM",
            timeout=timeout,
        )
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=timeout)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@contextlib.contextmanager
def ledger_insert_lock(settings: Settings) -> Iterator[None]:
    """Hold the lock a new ledger row needs, from outside the worker. SQLite: the database's
    write lock (BEGIN IMMEDIATE). PostgreSQL: a table lock that lets readers through and
    makes an INSERT into inbound_messages wait."""
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        lite = sqlite3.connect(str(url.database), isolation_level=None, timeout=30)
        try:
            lite.execute("BEGIN IMMEDIATE")
            yield
            lite.execute("ROLLBACK")
        finally:
            lite.close()
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection:
        connection.execute("LOCK TABLE inbound_messages IN SHARE ROW EXCLUSIVE MODE")
        yield
        connection.rollback()


def expire_lease(runtime: Runtime, mailbox_id: int) -> None:
    """As if the lease of a killed worker had run out (rather than wait MAILBOX_LEASE_SECONDS)."""
    with runtime.db.transaction() as session:
        session.execute(
            update(Mailbox)
            .where(Mailbox.id == mailbox_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
