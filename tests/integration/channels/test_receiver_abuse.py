"""T38: the receiver under protocol abuse. Bare line endings are refused, a smuggled second
message never becomes a second ticket, limits on command lines and recipients hold, and an
idle connection is closed."""

from __future__ import annotations

import time
from pathlib import Path

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


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _deliver(port: int, subject: str) -> None:
    with RawPeer(port) as peer:
        _envelope(peer)
        peer.send(
            b"From: customer@example.com\r\nSubject: " + subject.encode() + b"\r\n\r\nhi\r\n.\r\n"
        )
        assert peer.reply()[0] == 250


def test_a_thousand_open_connections_leave_the_mta_served(start_receiver: StartReceiver) -> None:
    """1,000 connections sit open and silent: each got its banner, an honest client is
    served meanwhile, and the memory they cost is bounded (figure in docs/reliability.md)."""
    receiver = start_receiver(receiver_max_sessions=1100)
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    before = _rss_bytes()
    flood = [RawPeer(receiver.smtp_port) for _ in range(1000)]
    try:
        assert {peer.banner[0] for peer in flood} == {220}
        grown = _rss_bytes() - before
        _deliver(receiver.smtp_port, "Sent during a flood")
    finally:
        for peer in flood:
            peer.socket.close()
    wait_for(lambda: count_tickets(receiver.runtime) == 1, "the honest message's ticket")
    print(f"1,000 open connections: +{grown / 2**20:.1f} MiB RSS ({grown / 1000:.0f} B each)")
    # Both ends of 1,000 loopback connections live in this process; well under 100 KiB each.
    assert grown < 1000 * 100 * 1024, f"{grown / 1000:.0f} bytes per connection"


def test_connections_beyond_the_session_limit_get_421(start_receiver: StartReceiver) -> None:
    """Over RECEIVER_MAX_SESSIONS, a connection gets 421 4.3.2 and is closed before anything
    is read (the MTA retries); once the flood is gone, mail is accepted again."""
    receiver = start_receiver(receiver_max_sessions=20)
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    held = [RawPeer(receiver.lmtp_port) for _ in range(20)]
    try:
        extra = [RawPeer(receiver.lmtp_port) for _ in range(200)]
        assert {peer.banner[0] for peer in held} == {220}
        assert {peer.banner for peer in extra} == {
            (421, "4.3.2 Too many connections; try again later")
        }
        assert all(peer.closed_by_server() for peer in extra)
        for peer in extra:
            peer.socket.close()
    finally:
        for peer in held:
            peer.socket.close()
    wait_for(lambda: _accepts(receiver.lmtp_port), "a free session after the flood")
    with RawPeer(receiver.lmtp_port) as peer:
        _envelope(peer, lmtp=True)
        peer.send(b"From: customer@example.com\r\nSubject: After the flood\r\n\r\nhi\r\n.\r\n")
        assert peer.reply()[0] == 250


def _accepts(port: int) -> bool:
    with RawPeer(port) as peer:
        return peer.banner[0] == 220


def test_a_trickling_client_is_closed_while_others_are_served(
    start_receiver: StartReceiver,
) -> None:
    """Slow-loris: a command sent one byte at a time never completes a command, so the idle
    timer (0.5 s here) is never restarted and the session is closed long before the 60 bytes
    are through (12 s at this pace); another client is served meanwhile."""
    receiver = start_receiver(receiver_idle_timeout=0.5)
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    line = b"EHLO " + b"x" * 55
    sent = 0
    with RawPeer(receiver.smtp_port) as slow:
        _deliver(receiver.smtp_port, "Sent beside a slow client")
        try:
            for byte in line:
                slow.send(bytes([byte]))
                sent += 1
                time.sleep(0.2)
        except OSError:
            pass  # closed by the server: the point of the test
        assert sent < len(line), "the trickle was never cut off"
        assert slow.closed_by_server()


def test_a_keep_alive_cannot_hold_a_session_forever(start_receiver: StartReceiver) -> None:
    """NOOP is limited per session: the eleventh gets 421 4.7.0 and the session ends."""
    receiver = start_receiver()
    with RawPeer(receiver.smtp_port) as peer:
        assert peer.command(b"EHLO mx.example.com")[0] == 250
        codes = [peer.command(b"NOOP")[0] for _ in range(11)]
        assert codes == [250] * 10 + [421]
        assert peer.closed_by_server()
