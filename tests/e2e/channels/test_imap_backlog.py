"""A newly added IMAP mailbox takes only mail delivered after it was added (a real Dovecot):
the folder's backlog is left alone, untouched and unread, unless the admin asked for it
(`hubdesk mailbox add --import-existing`, the API's `import_existing`, the UI checkbox)."""

from __future__ import annotations

import time

import pytest

from hubdesk.config import Settings
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from tests.e2e.channels.world import PASSWORD_VARIABLE, add_mailbox, deliver, flags, poll
from tests.e2e.channels.world import ticket_subjects as subjects
from tests.integration.channels.helpers import run_cli
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.mail import raw_mail

pytestmark = pytest.mark.e2e


def _next_second() -> None:
    """IMAP INTERNALDATE counts whole seconds: step past the current one."""
    time.sleep(1.1)


def _mailbox_id(runtime: Runtime, name: str) -> int:
    with runtime.db.transaction(write=False) as session:
        mailbox = session.query(Mailbox).filter_by(name=name).one()
        return mailbox.id


def test_existing_mail_is_left_alone_and_new_mail_is_taken(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """Two old messages stay where they are, unread, on every poll; mail delivered after the
    mailbox was added (before its first poll and after it) becomes tickets."""
    deliver(dovecot, account, raw_mail(subject="Old one"), raw_mail(subject="Old two"))
    _next_second()
    mailbox_id = add_mailbox(imap_runtime, dovecot.url(account), import_existing=False)
    _next_second()
    deliver(dovecot, account, raw_mail(subject="Before the first poll"))
    report = poll(imap_runtime, mailbox_id)
    assert (report.fetched, report.existing_left, report.acknowledged) == (1, 2, 1)
    assert subjects(imap_runtime) == ["Before the first poll"]
    assert flags(dovecot, account) == {1: set(), 2: set(), 3: {"\\Seen"}}
    deliver(dovecot, account, raw_mail(subject="After the first poll"))
    again = poll(imap_runtime, mailbox_id)
    assert (again.fetched, again.resync) == (1, False)
    assert subjects(imap_runtime) == ["Before the first poll", "After the first poll"]
    assert flags(dovecot, account)[1] == set()


def test_the_cli_adds_a_mailbox_without_its_backlog_by_default(
    imap_settings: Settings, imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """`hubdesk mailbox add --imap ...` says that only new mail is imported, and its first
    poll leaves the folder's existing message alone."""
    deliver(dovecot, account, raw_mail(subject="Years old"))
    _next_second()
    added = run_cli(
        imap_settings,
        "mailbox",
        "add",
        "support",
        "--address",
        "support@support.example.com",
        "--imap",
        dovecot.url(account),
        "--password-env",
        PASSWORD_VARIABLE,
    )
    assert added.returncode == 0, added.stderr
    assert b"only mail delivered from now on is imported" in added.stderr
    _next_second()
    deliver(dovecot, account, raw_mail(subject="Fresh"))
    report = poll(imap_runtime, _mailbox_id(imap_runtime, "support"))
    assert (report.fetched, report.existing_left) == (1, 1)
    assert subjects(imap_runtime) == ["Fresh"]


def test_import_existing_takes_the_backlog(
    imap_settings: Settings, imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """With `--import-existing`, the messages already in the folder become tickets too, and
    so does new mail."""
    deliver(dovecot, account, raw_mail(subject="Old one"), raw_mail(subject="Old two"))
    _next_second()
    added = run_cli(
        imap_settings,
        "mailbox",
        "add",
        "support",
        "--address",
        "support@support.example.com",
        "--imap",
        dovecot.url(account),
        "--password-env",
        PASSWORD_VARIABLE,
        "--import-existing",
    )
    assert added.returncode == 0, added.stderr
    mailbox_id = _mailbox_id(imap_runtime, "support")
    report = poll(imap_runtime, mailbox_id)
    assert (report.fetched, report.existing_left) == (2, 0)
    deliver(dovecot, account, raw_mail(subject="New"))
    poll(imap_runtime, mailbox_id)
    assert subjects(imap_runtime) == ["Old one", "Old two", "New"]
    assert flags(dovecot, account) == {1: {"\\Seen"}, 2: {"\\Seen"}, 3: {"\\Seen"}}
