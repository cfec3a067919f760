"""Helpers the IMAP tests share: settings that reach Dovecot, mailboxes, mail delivered by
APPEND, flags read back, one in-process poll, and what the database holds afterwards."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hubdesk.channels.imap import leases, status
from hubdesk.channels.imap.poll import PollReport
from hubdesk.channels.imap.poller import poll_once
from hubdesk.config import Settings
from hubdesk.inbound.models import InboundMessage
from hubdesk.mailboxes import service as mailboxes
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.tls import Certificates

PASSWORD_VARIABLE = "SUPPORT_IMAP_PASSWORD"


def write_secrets(path: Path, **values: str) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(0o600)
    return path


def channel_settings(
    base: Settings,
    tmp_path: Path,
    certificates: Certificates,
    account: ImapAccount,
    **overrides: Any,
) -> Settings:
    secrets = write_secrets(tmp_path / "secrets", **{PASSWORD_VARIABLE: account.password})
    values: dict[str, Any] = {
        "imap_ca_file": certificates.ca,
        "secrets_file": secrets,
        "imap_poll_interval": 0.5,
        "imap_timeout": 10.0,
        **overrides,
    }
    return base.model_copy(update=values)


def add_mailbox(runtime: Runtime, url: str, *, name: str = "support", **options: Any) -> int:
    """Add an IMAP mailbox. These tests mostly deliver mail before adding the mailbox, so it
    imports the folder's existing mail unless told `import_existing=False` (the product's
    default is False: see test_imap_backlog.py)."""
    options.setdefault("import_existing", True)
    with runtime.db.transaction() as session:
        mailbox = mailboxes.create_mailbox(
            session,
            SYSTEM,
            name=name,
            addresses=options.pop("addresses", [f"{name}@support.example.com"]),
            imap_url=url,
            password_env=options.pop("password_env", PASSWORD_VARIABLE),
            **options,
        )
        return mailbox.id


def poll(runtime: Runtime, mailbox_id: int) -> PollReport:
    """One poll of the mailbox, in this process, holding its lease meanwhile."""
    holder = leases.new_holder()
    lease = leases.take(runtime.db, mailbox_id, holder, 60)
    assert lease is not None, "the mailbox's lease is held elsewhere"
    try:
        view = status.load(runtime.db, mailbox_id)
        assert view is not None
        return poll_once(runtime, view, holder, lease)
    finally:
        leases.release(runtime.db, [mailbox_id], holder)


def deliver(dovecot: Dovecot, account: ImapAccount, *raws: bytes, folder: str = "INBOX") -> None:
    with dovecot.client(account) as client:
        for raw in raws:
            typ, data = client.append(folder, None, None, raw)
            assert typ == "OK", data


def flags(dovecot: Dovecot, account: ImapAccount, folder: str = "INBOX") -> dict[int, set[str]]:
    """The flags of every message in `folder` by UID (read-only: EXAMINE changes nothing)."""
    found: dict[int, set[str]] = {}
    with dovecot.client(account) as client:
        typ, _data = client.select(folder, readonly=True)
        assert typ == "OK", folder
        typ, data = client.uid("FETCH", "1:*", "(UID FLAGS)")
        for item in data:
            if not isinstance(item, bytes):
                continue
            uid = re.search(rb"UID (\d+)", item)
            listed = re.search(rb"FLAGS \(([^)]*)\)", item)
            if uid and listed:
                # \Recent belongs to the session that saw the message first, not to it.
                found[int(uid.group(1))] = set(listed.group(1).decode().split()) - {"\\Recent"}
    return found


def fetched_body_bytes(dovecot: Dovecot, account: ImapAccount) -> int:
    """Body bytes the server handed out to this account, from Dovecot's logout lines (once
    every session that logged in has logged its end: that line is written after BYE)."""
    pattern = re.compile(rf"imap\({re.escape(account.user)}\).*body_bytes=(\d+)")
    deadline = time.monotonic() + 5
    while True:
        text = dovecot.log_text()
        ends = [int(m.group(1)) for m in pattern.finditer(text)]
        started = text.count(f"Login: user=<{account.user}>")
        if len(ends) >= started or time.monotonic() > deadline:
            return sum(ends)
        time.sleep(0.02)


def logins(dovecot: Dovecot, account: ImapAccount) -> list[str]:
    """Log lines of login attempts as this account (successful or not)."""
    return [
        line
        for line in dovecot.log_text().splitlines()
        if f"user=<{account.user}>" in line and ("Login:" in line or "auth failed" in line)
    ]


def ledger(runtime: Runtime) -> list[InboundMessage]:
    """Every ledger row, oldest first, detached (readable after the session ends)."""
    with runtime.db.transaction(write=False) as session:
        rows = list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
        session.expunge_all()
        return rows


def ticket_subjects(runtime: Runtime) -> list[str]:
    with runtime.db.transaction(write=False) as session:
        return list(session.scalars(select(Ticket.subject).order_by(Ticket.id)))


def count_tickets(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0
