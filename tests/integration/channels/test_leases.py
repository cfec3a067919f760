"""Mailbox leases on both databases: one holder at a time, renewed by its holder only,
taken over once expired, released on request; the checkpoint is fenced by the lease."""

from __future__ import annotations

import time

import pytest

from hubdesk.channels.imap import leases, status
from hubdesk.db.uow import Database
from hubdesk.mailboxes import service as mailboxes
from hubdesk.mailboxes.models import Mailbox
from hubdesk.users.permissions import SYSTEM
from tests.support.processes import run_together


def _mailbox(db: Database, name: str = "support", *, imap: bool = True) -> int:
    with db.transaction() as session:
        return mailboxes.create_mailbox(
            session,
            SYSTEM,
            name=name,
            addresses=[f"{name}@support.example.com"],
            imap_url="imaps://support@imap.example.com/INBOX" if imap else None,
            password_env="SUPPORT_IMAP_PASSWORD" if imap else None,
        ).id


def test_one_holder_at_a_time_until_the_lease_expires(db: Database) -> None:
    """A held lease is refused to others, renewed only by its holder, and taken over once it
    has expired; the old holder's renewal then reports it lost."""
    mailbox_id = _mailbox(db)
    first, second = leases.new_holder(), leases.new_holder()
    assert leases.take(db, mailbox_id, first, 1.0) is not None
    assert leases.take(db, mailbox_id, second, 1.0) is None
    assert leases.renew(db, [mailbox_id], second, 1.0) == set()
    assert leases.renew(db, [mailbox_id], first, 1.0) == {mailbox_id}
    time.sleep(1.1)
    assert leases.take(db, mailbox_id, second, 60.0) is not None
    assert leases.renew(db, [mailbox_id], first, 60.0) == set()
    leases.release(db, [mailbox_id], first)
    assert leases.take(db, mailbox_id, first, 60.0) is None
    leases.release(db, [mailbox_id], second)
    assert leases.take(db, mailbox_id, first, 60.0) is not None


def test_only_enabled_imap_mailboxes_are_leased(db: Database) -> None:
    """A receive-only or disabled mailbox has nothing to poll: no lease is handed out."""
    local = _mailbox(db, "local", imap=False)
    disabled = _mailbox(db, "paused")
    with db.transaction() as session:
        mailbox = mailboxes.get_mailbox(session, SYSTEM, disabled)
        mailboxes.update_mailbox(session, SYSTEM, mailbox, {"enabled": False})
    holder = leases.new_holder()
    assert leases.take(db, local, holder, 60) is None
    assert leases.take(db, disabled, holder, 60) is None


def test_the_checkpoint_is_written_only_by_the_lease_holder(db: Database) -> None:
    """A poller that lost its lease cannot move the checkpoint: LeaseLost stops it. UIDs and
    UIDVALIDITY above 2**31 are stored as they are (64-bit columns, test_uid64.py)."""
    mailbox_id = _mailbox(db)
    holder = leases.new_holder()
    assert leases.take(db, mailbox_id, holder, 60) is not None
    view = status.load(db, mailbox_id)
    assert view is not None
    status.save_checkpoint(db, view, holder, 4_000_000_000, 3_000_000_000)
    again = status.load(db, mailbox_id)
    assert again is not None
    assert (again.uidvalidity, again.last_uid) == (4_000_000_000, 3_000_000_000)
    with pytest.raises(status.LeaseLost):
        status.save_checkpoint(db, view, leases.new_holder(), 1, 1)
    with db.transaction(write=False) as session:
        row = session.get(Mailbox, mailbox_id)
        assert row is not None
        assert (row.uidvalidity, row.last_uid) == (4_000_000_000, 3_000_000_000)


def _race(database_url: str, mailbox_id: int) -> bool:
    db = Database.connect(database_url)
    try:
        return leases.take(db, mailbox_id, leases.new_holder(), 60) is not None
    finally:
        db.dispose()


def test_workers_racing_for_one_lease_get_one(db: Database) -> None:
    """Three processes released at the same moment: exactly one takes the lease."""
    mailbox_id = _mailbox(db)
    url = db.engine.url.render_as_string(hide_password=False)
    results = run_together(_race, [(url, mailbox_id)] * 3)
    assert sorted(results) == [False, False, True]
