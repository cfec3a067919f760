"""IMAP polling against a real Dovecot: new mail becomes tickets and is acknowledged only
after its ledger row committed; processed and oversized mail is handled as configured."""

from __future__ import annotations

import pytest

from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from tests.e2e.channels.world import (
    add_mailbox,
    deliver,
    fetched_body_bytes,
    flags,
    ledger,
    poll,
    ticket_subjects,
)
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.factories import stored_raw
from tests.support.mail import raw_mail

pytestmark = pytest.mark.e2e


def test_new_mail_becomes_tickets_and_is_flagged_seen(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """Two new messages become two tickets; each is \\Seen only once its row is in the
    ledger, whose source is the message's IMAP URL; the next poll fetches nothing."""
    deliver(dovecot, account, raw_mail(subject="First"), raw_mail(subject="Second"))
    assert flags(dovecot, account) == {1: set(), 2: set()}
    mailbox_id = add_mailbox(imap_runtime, dovecot.url(account))
    report = poll(imap_runtime, mailbox_id)
    assert (report.fetched, report.acknowledged, report.resync) == (2, 2, True)
    assert ticket_subjects(imap_runtime) == ["First", "Second"]
    assert flags(dovecot, account) == {1: {"\\Seen"}, 2: {"\\Seen"}}
    rows = ledger(imap_runtime)
    assert [row.status for row in rows] == ["processed", "processed"]
    assert rows[0].source.startswith(f"imaps://{account.user}@127.0.0.1:{dovecot.imaps_port}/")
    assert rows[0].source.endswith(f";UIDVALIDITY={report.uidvalidity}/;UID=1")
    assert rows[1].envelope["uid"] == 2
    assert {row.mailbox_id for row in rows} == {mailbox_id}
    with imap_runtime.db.transaction(write=False) as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        assert (mailbox.state, mailbox.last_uid) == ("ok", 2)
        assert mailbox.last_success_at is not None
    again = poll(imap_runtime, mailbox_id)
    assert (again.fetched, again.recognised, again.resync) == (0, 0, False)
    deliver(dovecot, account, raw_mail(subject="Third"))
    third = poll(imap_runtime, mailbox_id)
    assert (third.fetched, third.recognised) == (1, 0)
    assert ticket_subjects(imap_runtime) == ["First", "Second", "Third"]


def test_a_message_read_by_a_person_is_still_imported(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """Polling goes by UID, not by the \\Seen flag: mail someone already opened in a mail
    client is new to hubdesk and still becomes a ticket."""
    deliver(dovecot, account, raw_mail(subject="Already read"))
    with dovecot.client(account) as client:
        client.select("INBOX")
        client.uid("STORE", "1", "+FLAGS", "(\\Seen)")
    poll(imap_runtime, add_mailbox(imap_runtime, dovecot.url(account)))
    assert ticket_subjects(imap_runtime) == ["Already read"]


@pytest.mark.parametrize("action", ["move", "delete"])
def test_processed_mail_is_moved_or_deleted_when_asked(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount, action: str
) -> None:
    """processed_action=move puts imported mail in the processed folder (created when
    missing); delete removes it; either way INBOX is left empty and nothing is lost."""
    deliver(dovecot, account, raw_mail(subject="Move me"), raw_mail(subject="Me too"))
    folder = "Processed" if action == "move" else None
    mailbox_id = add_mailbox(
        imap_runtime, dovecot.url(account), processed_action=action, processed_folder=folder
    )
    report = poll(imap_runtime, mailbox_id)
    assert report.acknowledged == 2
    assert flags(dovecot, account) == {}
    assert ticket_subjects(imap_runtime) == ["Move me", "Me too"]
    if action == "move":
        assert len(flags(dovecot, account, "Processed")) == 2


@pytest.mark.parametrize("action", ["leave", "move"])
def test_oversized_mail_is_recorded_without_downloading_its_body(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount, action: str
) -> None:
    """A message over MAIL_MAX_MESSAGE_BYTES (by RFC822.SIZE) is quarantined with reason
    message_size and only its header block stored; Dovecot handed out 0 body bytes; it is
    left unread in place or moved to the oversized folder; the mail after it is imported."""
    runtime = Runtime.build(
        imap_runtime.settings.model_copy(update={"mail_max_message_bytes": 4096})
    )
    try:
        payload = ("big.bin", "application/octet-stream", b"x" * 20000)
        big = raw_mail(subject="Huge", attachments=[payload])
        small = raw_mail(subject="Small after huge")
        deliver(dovecot, account, big, small)
        folder = "Oversized" if action == "move" else None
        mailbox_id = add_mailbox(
            runtime, dovecot.url(account), oversized_action=action, oversized_folder=folder
        )
        report = poll(runtime, mailbox_id)
        assert (report.oversized, report.fetched) == (1, 1)
        rows = ledger(runtime)
        assert [row.status for row in rows] == ["quarantined", "processed"]
        assert rows[0].reason.startswith("message_size: ")
        assert rows[0].envelope["size"] == len(big)
        assert rows[0].envelope["truncated"] == "header_only"
        header_block = big.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        assert stored_raw(runtime, rows[0].id) == header_block
        assert rows[0].subject == "Huge"
        assert ticket_subjects(runtime) == ["Small after huge"]
        assert fetched_body_bytes(dovecot, account) == len(small)
        if action == "leave":
            assert flags(dovecot, account) == {1: set(), 2: {"\\Seen"}}
        else:
            assert flags(dovecot, account) == {2: {"\\Seen"}}
            assert flags(dovecot, account, "Oversized") == {1: set()}
        assert poll(runtime, mailbox_id).oversized == 0
    finally:
        runtime.close()
