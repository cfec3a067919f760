"""T40 on the receiver: the database goes away between RCPT and DATA (a relay in front of
PostgreSQL is cut), DATA is answered 451 4.3.0, and the retry after recovery is stored once."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.integration.channels.conftest import StartReceiver
from tests.integration.channels.helpers import add_mailbox, count_tickets, ledger, wait_for
from tests.integration.channels.relay import TcpRelay
from tests.support.mail import raw_mail

SUPPORT = "support@support.example.com"


@pytest.fixture
def relay(postgres_url: str) -> Iterator[TcpRelay]:
    url = make_url(postgres_url)
    running = TcpRelay(url.host or "127.0.0.1", url.port or 5432).start()
    yield running
    running.cut()


def relayed(postgres_url: str, relay: TcpRelay) -> str:
    url = make_url(postgres_url).set(host="127.0.0.1", port=relay.port)
    return url.render_as_string(hide_password=False)


def test_data_answers_451_when_the_database_goes_away(
    start_receiver: StartReceiver, postgres_url: str, relay: TcpRelay
) -> None:
    """RCPT was accepted, then the database vanished: DATA gets 451 4.3.0 (the MTA keeps
    the mail), nothing half-stored; once it is back the retry gets 250 and one ticket."""
    receiver = start_receiver(database_url=relayed(postgres_url, relay))
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    raw = raw_mail(subject="Sent during an outage")
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        client.ehlo("mx.example.com")
        client.mail("customer@example.com")
        assert client.rcpt(SUPPORT)[0] == 250
        relay.cut()
        code, text = client.data(raw)
    assert (code, text[:5]) == (451, b"4.3.0")
    relay.restore()
    assert ledger(receiver.runtime) == []
    with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
        assert client.sendmail("customer@example.com", [SUPPORT], raw) == {}
    wait_for(lambda: count_tickets(receiver.runtime) == 1, "the ticket")
    assert [row.status for row in ledger(receiver.runtime)] == ["processed"]
