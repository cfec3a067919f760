"""T38: the receiver under protocol abuse. Bare line endings are refused, a smuggled second
message never becomes a second ticket, limits on command lines and recipients hold, and an
idle connection is closed."""

from __future__ import annotations

import pytest

from tests.integration.channels.conftest import StartReceiver
from tests.integration.channels.helpers import add_mailbox, count_tickets, ledger, settled, wait_for
from tests.support.mail import raw_mail
from tests.support.smtp_peers import RawPeer

SUPPORT = "support@support.example.com"


def _envelope(peer: RawPeer, *, lmtp: bool = False) -> None:
    assert peer.command(b"LHLO mx.example.com" if lmtp else b"EHLO mx.example.com")[0] == 250
    assert peer.command(b"MAIL FROM:<customer@example.com>")[0] == 250
    assert peer.command(f"RCPT TO:<{SUPPORT}>".encode())[0] == 250
    assert peer.command(b"DATA")[0] == 354


def test_a_bare_lf_in_the_message_is_refused(start_receiver: StartReceiver) -> None:
    """RFC 5321 2.3.8: lines end in CRLF. A message with a bare LF gets 550 5.6.0 and is not
    stored; the session goes on and a clean message is accepted after it."""
    receiver = start_receiver()
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    with RawPeer(receiver.smtp_port) as peer:
        _envelope(peer)
        peer.send(b"Subject: bare\r\n\r\nline one\nline two\r\n.\r\n")
        code, text = peer.reply()
        assert (code, text[:5]) == (550, "5.6.0")
        assert peer.command(b"MAIL FROM:<customer@example.com>")[0] == 250
        assert peer.command(f"RCPT TO:<{SUPPORT}>".encode())[0] == 250
        assert peer.command(b"DATA")[0] == 354
        peer.send(raw_mail(subject="Clean") + b".\r\n")
        assert peer.reply()[0] == 250
    assert len(ledger(receiver.runtime)) == 1


@pytest.mark.parametrize(
    "end",
    [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r"],
    ids=["LF.LF", "CR.CR", "LF.CRLF", "CRLF.LF", "CRLF.CR"],
)
def test_a_smuggled_message_never_becomes_a_second_ticket(
    start_receiver: StartReceiver, end: bytes
) -> None:
    """SMTP smuggling: an end-of-data lookalike followed by a whole second transaction
    inside DATA. Only CRLF.CRLF ends DATA, and the bare CR/LF gets the whole thing
    refused: no ticket from the smuggled part, whatever the lookalike."""
    receiver = start_receiver()
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    smuggled = (
        b"MAIL FROM:<ceo@support.example.com>\r\nRCPT TO:<" + SUPPORT.encode() + b">\r\n"
        b"DATA\r\nFrom: ceo@support.example.com\r\nSubject: Smuggled\r\n\r\nwire money\r\n"
    )
    with RawPeer(receiver.smtp_port) as peer:
        _envelope(peer)
        peer.send(b"From: customer@example.com\r\nSubject: Cover\r\n\r\nhello" + end)
        peer.send(smuggled + b".\r\n")
        code, _text = peer.reply()
        assert code == 550
        assert peer.command(b"QUIT")[0] == 221
    wait_for(lambda: settled(receiver.runtime), "processing")
    assert ledger(receiver.runtime) == []
    assert count_tickets(receiver.runtime) == 0


def test_an_over_long_command_line_is_refused_and_the_session_goes_on(
    start_receiver: StartReceiver,
) -> None:
    """A 1 MB command line is read to its end and refused (500), without the server
    buffering it; the next command is answered normally."""
    receiver = start_receiver()
    with RawPeer(receiver.smtp_port) as peer:
        assert peer.command(b"EHLO mx.example.com")[0] == 250
        assert peer.command(b"MAIL FROM:<" + b"a" * 1_000_000 + b"@example.com>")[0] == 500
        assert peer.command(b"NOOP")[0] == 250


def test_recipients_beyond_the_limit_get_452(start_receiver: StartReceiver) -> None:
    """Over RECEIVER_MAX_RECIPIENTS, RCPT gets 452 4.5.3 (RFC 5321 4.5.3.1.10)."""
    receiver = start_receiver(receiver_max_recipients=3)
    with RawPeer(receiver.lmtp_port) as peer:
        assert peer.command(b"LHLO mx.example.com")[0] == 250
        assert peer.command(b"MAIL FROM:<customer@example.com>")[0] == 250
        codes = [
            peer.command(f"RCPT TO:<user{n}@support.example.com>".encode())[0] for n in range(5)
        ]
    assert codes == [250, 250, 250, 452, 452]


def test_an_idle_connection_is_closed(start_receiver: StartReceiver) -> None:
    """A client that goes quiet is disconnected after RECEIVER_IDLE_TIMEOUT (0.5 s here; the
    peer waits up to its 10 s socket timeout for the close), while another client is served
    meanwhile."""
    receiver = start_receiver(receiver_idle_timeout=0.5)
    with RawPeer(receiver.smtp_port) as idle:
        with RawPeer(receiver.smtp_port) as busy:
            assert busy.command(b"EHLO mx.example.com")[0] == 250
        assert idle.closed_by_server()
