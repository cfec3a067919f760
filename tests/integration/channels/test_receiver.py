"""The LMTP/SMTP receiver through smtplib: 250 only after the ledger commit, 550 for
strangers, 552 for oversized mail, 451 while the database is unreachable, and a message
delivered twice making one ticket."""

from __future__ import annotations

import smtplib

import pytest

from hubdesk.cli.worker_commands import background_worker
from hubdesk.config import Settings
from hubdesk.mailboxes import service as mailboxes
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import SYSTEM
from tests.integration.channels.conftest import StartReceiver
from tests.integration.channels.helpers import (
    add_mailbox,
    count_tickets,
    ledger,
    settled,
    wait_for,
)
from tests.support.dovecot import free_port
from tests.support.factories import stored_raw
from tests.support.mail import raw_mail

SUPPORT = "support@support.example.com"


def test_lmtp_answers_250_after_the_raw_message_is_committed(
    start_receiver: StartReceiver,
) -> None:
    """The 250 names the ledger row, which holds the exact bytes and the envelope when the
    client reads it; the ticket is made afterwards, off the session."""
    receiver = start_receiver()
    mailbox_id = add_mailbox(receiver.runtime, "support", [SUPPORT])
    raw = raw_mail(subject="Over LMTP")
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        client.ehlo("mx.example.com")
        client.mail("customer@example.com")
        assert client.rcpt(SUPPORT)[0] == 250
        code, text = client.data(raw)
    assert code == 250
    inbound_id = int(text.decode().rsplit(" ", 1)[1])
    rows = ledger(receiver.runtime)
    assert [row.id for row in rows] == [inbound_id]
    assert stored_raw(receiver.runtime, rows[0].id) == raw
    # a small message is kept in its ledger row (HUBDESK_INLINE_MAX_BYTES), no blob file
    assert not receiver.runtime.blobs.exists(rows[0].raw_sha256)
    assert (rows[0].source, rows[0].mailbox_id) == ("lmtp", mailbox_id)
    assert rows[0].envelope["mail_from"] == "customer@example.com"
    assert rows[0].envelope["rcpt_to"] == [SUPPORT]
    assert rows[0].envelope["helo"] == "mx.example.com"
    wait_for(lambda: count_tickets(receiver.runtime) == 1, "the ticket")


def test_smtp_mode_receives_too(start_receiver: StartReceiver) -> None:
    """The SMTP listener accepts the same mail the same way (for senders without LMTP)."""
    receiver = start_receiver()
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    with smtplib.SMTP("127.0.0.1", receiver.smtp_port) as client:
        refused = client.sendmail("customer@example.com", [SUPPORT], raw_mail(subject="SMTP"))
    assert refused == {}
    assert [row.source for row in ledger(receiver.runtime)] == ["smtp"]
    wait_for(lambda: count_tickets(receiver.runtime) == 1, "the ticket")


def test_recipients_are_mailbox_addresses_and_their_sub_addresses(
    start_receiver: StartReceiver,
) -> None:
    """A mailbox address (any case) and its +tag sub-addresses get 250 at RCPT; any other
    address 550 5.1.1, so the sending MTA bounces it instead of us dropping it."""
    receiver = start_receiver()
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        client.ehlo("mx.example.com")
        client.mail("customer@example.com")
        assert client.rcpt("Support@Support.Example.com")[0] == 250
        assert client.rcpt("support+billing@support.example.com")[0] == 250
        code, text = client.rcpt("sales@support.example.com")
        assert (code, text[:5]) == (550, b"5.1.1")
        assert client.rcpt("support@other.example.com")[0] == 550


def test_without_mailboxes_any_address_at_mail_domain_is_accepted(
    start_receiver: StartReceiver,
) -> None:
    """A fresh install with no mailbox receives for anything@MAIL_DOMAIN and nothing else."""
    receiver = start_receiver()
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        client.ehlo("mx.example.com")
        client.mail("customer@example.com")
        assert client.rcpt("whatever@support.example.com")[0] == 250
        assert client.rcpt("someone@elsewhere.example.com")[0] == 550


def test_oversized_mail_is_refused_with_552(start_receiver: StartReceiver) -> None:
    """SIZE is advertised as MAIL_MAX_MESSAGE_BYTES; a larger SIZE= at MAIL FROM and a
    larger DATA are both refused with 552 5.3.4, and nothing reaches the ledger."""
    receiver = start_receiver(mail_max_message_bytes=2048)
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    big = raw_mail(body="x" * 5000)
    with smtplib.SMTP("127.0.0.1", receiver.smtp_port) as client:
        client.ehlo("mx.example.com")
        assert client.esmtp_features["size"] == "2048"
        code, text = client.mail("customer@example.com", ["SIZE=5000"])
        assert (code, text[:5]) == (552, b"5.3.4")
        client.rset()
        client.mail("customer@example.com")
        client.rcpt(SUPPORT)
        code, text = client.data(big)
        assert (code, text[:5]) == (552, b"5.3.4")
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        client.ehlo("mx.example.com")
        client.mail("customer@example.com")
        client.rcpt(SUPPORT)
        assert client.data(big)[0] == 552
    assert ledger(receiver.runtime) == []


def test_the_same_message_delivered_twice_makes_one_ticket(
    start_receiver: StartReceiver,
) -> None:
    """Both deliveries get 250 and are kept; the second is recorded as a duplicate."""
    receiver = start_receiver()
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    raw = raw_mail(subject="Sent twice")
    for _ in range(2):
        with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
            assert client.sendmail("customer@example.com", [SUPPORT], raw) == {}
    wait_for(lambda: len(ledger(receiver.runtime)) == 2 and settled(receiver.runtime), "both")
    assert sorted(row.status for row in ledger(receiver.runtime)) == ["duplicate", "processed"]
    assert count_tickets(receiver.runtime) == 1


def test_lmtp_answers_each_recipient_and_stores_the_message_once(
    start_receiver: StartReceiver,
) -> None:
    """RFC 2033: one reply per accepted recipient after DATA; one ledger row whose mailbox
    is the first recipient's and whose envelope lists every accepted RCPT."""
    receiver = start_receiver()
    first = add_mailbox(receiver.runtime, "support", [SUPPORT])
    add_mailbox(receiver.runtime, "billing", ["billing@support.example.com"])
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        client.ehlo("mx.example.com")
        client.mail("customer@example.com")
        assert client.rcpt(SUPPORT)[0] == 250
        assert client.rcpt("nobody@support.example.com")[0] == 550
        assert client.rcpt("billing@support.example.com")[0] == 250
        assert client.data(raw_mail(subject="To both"))[0] == 250
        assert client.getreply()[0] == 250  # the second recipient's answer
        assert client.noop()[0] == 250
    rows = ledger(receiver.runtime)
    assert len(rows) == 1
    assert rows[0].mailbox_id == first
    assert rows[0].envelope["rcpt_to"] == [SUPPORT, "billing@support.example.com"]


def test_rcpt_answers_451_while_the_database_is_unreachable(
    start_receiver: StartReceiver,
) -> None:
    """With nothing listening where the database should be, RCPT gets 451 4.3.0: the
    sending MTA keeps the mail and retries, nothing is refused for good."""
    receiver = start_receiver(database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/hubdesk")
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        client.ehlo("mx.example.com")
        assert client.mail("customer@example.com")[0] == 250
        code, text = client.rcpt(SUPPORT)
    assert (code, text[:5]) == (451, b"4.3.0")


def test_mail_is_deferred_while_email_to_ticket_is_off(start_receiver: StartReceiver) -> None:
    """TICKET_EMAIL_INTEGRATION=false: MAIL FROM gets 451 4.3.2, so mail waits at the MTA."""
    receiver = start_receiver(ticket_email_integration=False)
    with smtplib.SMTP("127.0.0.1", receiver.smtp_port) as client:
        client.ehlo("mx.example.com")
        code, text = client.mail("customer@example.com")
    assert (code, text[:5]) == (451, b"4.3.2")


def test_a_disabled_mailbox_defers_its_mail(start_receiver: StartReceiver) -> None:
    """A mailbox switched off answers 450 4.2.1 at RCPT: try later, not a bounce."""
    receiver = start_receiver()
    mailbox_id = add_mailbox(receiver.runtime, "support", [SUPPORT])
    with receiver.runtime.db.transaction() as session:
        mailbox = mailboxes.get_mailbox(session, SYSTEM, mailbox_id)
        mailboxes.update_mailbox(session, SYSTEM, mailbox, {"enabled": False})
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        client.ehlo("mx.example.com")
        client.mail("customer@example.com")
        code, text = client.rcpt(SUPPORT)
    assert (code, text[:5]) == (450, b"4.2.1")


def test_a_bounce_with_the_null_sender_is_received(start_receiver: StartReceiver) -> None:
    """MAIL FROM:<> (RFC 5321 4.5.5: bounces carry the null reverse-path) is accepted and
    recorded as such, so that bounces can reach the pipeline's bounce handling."""
    receiver = start_receiver()
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    bounce = raw_mail(
        subject="Undelivered Mail Returned to Sender", sender="MAILER-DAEMON@mx.example.com"
    )
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        assert client.sendmail("", [SUPPORT], bounce) == {}
    assert [row.envelope["mail_from"] for row in ledger(receiver.runtime)] == ["<>"]


def test_serve_with_workers_runs_the_receiver_beside_the_web_app(
    channel_settings: Settings,
) -> None:
    """`background_worker` (what `hubdesk serve --with-workers` uses) listens on the
    configured ports while its block runs, and on none after it; a port of 0 is off."""
    port = free_port()
    runtime = Runtime.build(
        channel_settings.model_copy(update={"receiver_lmtp_port": port, "receiver_smtp_port": 0})
    )
    try:
        with background_worker(runtime, enabled=True), smtplib.LMTP("127.0.0.1", port) as lmtp:
            assert lmtp.ehlo("mx.example.com")[0] == 250
        with pytest.raises(ConnectionRefusedError):
            smtplib.LMTP("127.0.0.1", port)
        with background_worker(runtime, enabled=False), pytest.raises(ConnectionRefusedError):
            smtplib.LMTP("127.0.0.1", port)
    finally:
        runtime.close()
