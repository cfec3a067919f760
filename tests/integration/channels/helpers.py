"""Small things the channel tests share: mailboxes, ledger rows, waiting for processing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import func, select

from hubdesk.config import Settings
from hubdesk.inbound.models import InboundMessage
from hubdesk.mailboxes import service as mailboxes
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM

HUBDESK = str(Path(sys.executable).parent / "hubdesk")


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`hubdesk ARGS` in a child process configured by `settings`."""
    environment = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "HUBDESK_DATA_DIR": str(settings.data_dir),
        "HUBDESK_SECRET_KEY": settings.secret_key or "",
        "MAIL_DOMAIN": settings.mail_domain,
    }
    if settings.secrets_file is not None:
        environment["HUBDESK_SECRETS_FILE"] = str(settings.secrets_file)
    if settings.imap_ca_file is not None:
        environment["IMAP_CA_FILE"] = str(settings.imap_ca_file)
    return subprocess.run(
        [HUBDESK, *args],
        capture_output=True,
        env=environment,
        cwd=settings.data_dir.parent,
        timeout=120,
        check=False,
    )


def wait_for(condition: Callable[[], object], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def add_mailbox(runtime: Runtime, name: str, addresses: Sequence[str]) -> int:
    with runtime.db.transaction() as session:
        return mailboxes.create_mailbox(session, SYSTEM, name=name, addresses=addresses).id


def ledger(runtime: Runtime) -> list[InboundMessage]:
    """Every ledger row, oldest first, detached (readable after the session ends)."""
    with runtime.db.transaction(write=False) as session:
        rows = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
        session.expunge_all()
        return rows


def count_tickets(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def settled(runtime: Runtime) -> bool:
    """Every ledger row has been processed (none is still `received`)."""
    return all(row.status != "received" for row in ledger(runtime))
