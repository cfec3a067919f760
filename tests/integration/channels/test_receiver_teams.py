"""A Bcc-only copy over the real LMTP receiver: the same message delivered in a second LMTP
transaction to another team's mailbox (RCPT TO is its only trace) opens that team's ticket,
once (docs/teams.md)."""

from __future__ import annotations

import smtplib

from sqlalchemy import select

from hubdesk.tickets.models import Ticket
from tests.integration.channels.conftest import StartReceiver
from tests.integration.channels.helpers import count_tickets, ledger, wait_for
from tests.support import factories
from tests.support.mail import raw_mail


def test_a_bcc_copy_in_its_own_lmtp_transaction_opens_its_teams_ticket_once(
    start_receiver: StartReceiver,
) -> None:
    receiver = start_receiver()
    runtime = receiver.runtime
    with runtime.db.transaction() as session:
        teams = factories.teams_with_mailboxes(session, ("Support", "Sales"), "support.example.com")
    raw = raw_mail(to="support@support.example.com", message_id="<bcc-lmtp@mail.example.com>")
    hops = ("mx1", "mx2", "mx2")  # the Support copy, the Sales (Bcc) copy, that copy again
    for hop, rcpt in zip(hops, ("support", "sales", "sales"), strict=True):
        copy = f"Received: from mx.example.com by {hop}\r\n".encode() + raw
        with smtplib.LMTP("127.0.0.1", receiver.lmtp_port) as client:
            refused = client.sendmail("customer@example.com", [f"{rcpt}@support.example.com"], copy)
        assert refused == {}
        wait_for(lambda: all(row.status != "received" for row in ledger(runtime)), "the delivery")
    assert count_tickets(runtime) == 2
    with runtime.db.transaction(write=False) as session:
        found = list(session.scalars(select(Ticket.team_id).order_by(Ticket.id)))
    assert found == [teams["Support"], teams["Sales"]]
    rows = ledger(runtime)
    assert [(row.status, row.duplicate_of_id) for row in rows] == [
        ("processed", None),
        ("processed", rows[0].id),
        ("duplicate", rows[0].id),
    ]
    assert "a Bcc copy to Sales" in rows[1].reason
