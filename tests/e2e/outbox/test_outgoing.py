"""Outgoing mail through a real SMTP server on loopback: the acknowledgement and its headers,
threading of the customer's answer, limits, loop defence, header injection, TLS, retries,
bounces, agent replies and notifications (RELIABILITY T32-T37)."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from hubdesk.customers import service as customers
from hubdesk.db.types import utcnow
from hubdesk.intake import pipeline
from hubdesk.mail.compose import LOOP_HEADER
from hubdesk.outbox.models import AddressFlag, OutboxAttempt, OutboxMessage
from hubdesk.outbox.replies import send_reply
from hubdesk.outbox.sender import send_due
from hubdesk.tickets.message_ids import verified_ticket_number
from hubdesk.tickets.models import Comment, Ticket
from hubdesk.users.permissions import SYSTEM
from tests.e2e.outbox.conftest import Outgoing
from tests.support.mail import raw_mail


def _rows(outgoing: Outgoing) -> list[OutboxMessage]:
    with outgoing.runtime.db.transaction(write=False) as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


def test_new_ticket_acknowledgement(outgoing: Outgoing) -> None:
    """A new ticket is acknowledged once, to the sender, with the ticket number in the
    subject, our signed Message-ID, threading headers, RFC 3834 markers, our loop header, a
    null envelope sender, and none of the sender's words."""
    outcome = pipeline.ingest(
        outgoing.runtime,
        raw_mail(
            message_id="<customer-1@example.com>",
            subject="Buy cheap pills at http://spam.example",
            body="Visit http://spam.example now",
        ),
        source="t",
    )
    [sent] = outgoing.send()
    message = sent.message
    assert sent.rcpt_tos == ["customer@example.com"]
    assert sent.mail_from in ("", "<>")
    assert f"[{outcome.ticket_number}]" in sent.header("Subject")
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message[LOOP_HEADER] == "support.example.com"
    assert sent.header("In-Reply-To") == "<customer-1@example.com>"
    assert verified_ticket_number(sent.header("Message-ID"), outgoing.runtime.secret_key) == (
        outcome.ticket_number
    )
    assert b"spam.example" not in sent.data
    assert b"pills" not in sent.data
    [row] = _rows(outgoing)
    assert row.status == "sent"
    assert row.kind == "auto_reply"


def test_customer_answer_to_the_acknowledgement_threads(outgoing: Outgoing) -> None:
    """The customer's reply to our message (In-Reply-To = our id) lands on the ticket."""
    first = pipeline.ingest(outgoing.runtime, raw_mail(subject="Help"), source="t")
    [ack] = outgoing.send()
    answer = pipeline.ingest(
        outgoing.runtime,
        raw_mail(
            subject="Re: whatever",
            sender="colleague@else.example",
            in_reply_to=ack.header("Message-ID"),
        ),
        source="t",
    )
    assert answer.status == "linked"
    assert answer.ticket_id == first.ticket_id


def test_no_acknowledgement_to_automatic_list_or_own_mail(outgoing: Outgoing) -> None:
    """Auto-replies, list mail, our own addresses, no-reply senders and a null Return-Path
    get no acknowledgement (T34)."""
    cases = [
        raw_mail(headers={"Auto-Submitted": "auto-generated"}, subject="a"),
        raw_mail(headers={"Precedence": "bulk"}, subject="b"),
        raw_mail(headers={"List-Id": "<l.example.com>"}, subject="c"),
        raw_mail(headers={"X-Auto-Response-Suppress": "All"}, subject="d"),
        raw_mail(sender="noreply@shop.example", subject="e"),
        raw_mail(sender="MAILER-DAEMON@mx.example", subject="f"),
        raw_mail(sender="support@support.example.com", subject="g"),
        raw_mail(headers={"Return-Path": "<>"}, subject="h"),
        raw_mail(headers={LOOP_HEADER: "elsewhere"}, subject="i"),
    ]
    for raw in cases:
        pipeline.ingest(outgoing.runtime, raw, source="t")
    assert outgoing.send() == []
    assert _rows(outgoing) == []


def test_acknowledgements_are_limited_per_recipient(outgoing: Outgoing) -> None:
    """Many new tickets from one address get AUTO_REPLY_PER_RECIPIENT_PER_DAY answers."""
    for index in range(6):
        pipeline.ingest(outgoing.runtime, raw_mail(subject=f"Request {index}"), source="t")
    assert len(outgoing.send()) == outgoing.runtime.settings.auto_reply_per_recipient_per_day


def test_global_circuit_breaker(outgoing: Outgoing) -> None:
    """T36: forged senders cannot make us send more than the global limit in 5 minutes."""
    strict = outgoing.with_settings(auto_reply_global_per_5_minutes=5)
    for index in range(12):
        pipeline.ingest(
            strict.runtime, raw_mail(sender=f"victim{index}@x{index}.example"), source="t"
        )
    assert len(strict.send()) == 5


def test_ping_pong_with_a_naive_auto_responder_stops(outgoing: Outgoing) -> None:
    """T35: a responder that answers every mail with a fresh message (new Message-ID, no
    markers, no threading headers, a changed subject) gets at most the per-recipient number
    of answers, and the exchange stops within a few messages."""
    responder = "robot@naive.example"
    pipeline.ingest(outgoing.runtime, raw_mail(sender=responder, subject="Hello"), source="t")
    exchanged = 1
    for round_number in range(20):
        sent = outgoing.send()
        new = [m for m in sent[round_number:] if m.rcpt_tos == [responder]]
        if not new:
            break
        for message in new:
            reply = raw_mail(
                sender=responder, subject=f"Re: {message.message['Subject']} {random.random()}"
            )
            pipeline.ingest(outgoing.runtime, reply, source="t")
            exchanged += 2
    assert len(outgoing.sink.received) <= outgoing.runtime.settings.auto_reply_per_recipient_per_day
    assert exchanged <= 10


def test_header_injection_is_impossible(outgoing: Outgoing) -> None:
    """T32: an encoded CR/LF in the subject or display name never becomes a header or a
    recipient of what we send (acknowledgement and agent reply)."""
    raw = (
        raw_mail(subject="PLACEHOLDER")
        .replace(
            b"Subject: PLACEHOLDER", b"Subject: =?utf-8?q?Hello=0D=0ABcc:_victim@evil.example?="
        )
        .replace(
            b"From: customer@example.com",
            b"From: =?utf-8?q?Eve=0D=0ABcc:_x@evil.example?= <customer@example.com>\r\n"
            b"Reply-To: customer@example.com",
        )
    )
    outcome = pipeline.ingest(outgoing.runtime, raw, source="t")
    with outgoing.runtime.db.transaction() as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket is not None
        assert "\n" not in ticket.subject
        assert "\r" not in ticket.subject
        # An ambiguous From is refused (T21); the ticket's contact is the Reply-To fallback,
        # so there is someone to answer (issue 10), and nothing of the forged name survives.
        contact = customers.ensure_contact(session, SYSTEM, email="customer@example.com")
        assert ticket.contact_id == contact.id
        send_reply(session, outgoing.runtime, SYSTEM, ticket, body="We are on it.", now=utcnow())
    sent = outgoing.send()
    assert len(sent) == 2  # the acknowledgement and the reply, both to the Reply-To
    for received in sent:
        assert received.rcpt_tos == ["customer@example.com"]
        assert "bcc" not in received.header_names()
        assert b"\r\nBcc:" not in received.data
    assert outgoing.sink.commands.count("RCPT TO:<victim@evil.example>") == 0


def test_retries_with_backoff_and_permanent_failure(outgoing: Outgoing) -> None:
    """A 4xx is retried later (attempt recorded); a 5xx fails the message for good."""
    outgoing.sink.refuse["customer@example.com"] = "451 4.3.0 try again later"
    pipeline.ingest(outgoing.runtime, raw_mail(), source="t")
    assert outgoing.send() == []
    [row] = _rows(outgoing)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.next_attempt_at > utcnow() + timedelta(seconds=30)
    del outgoing.sink.refuse["customer@example.com"]
    send_due(outgoing.runtime, now=utcnow() + timedelta(minutes=5))
    [row] = _rows(outgoing)
    assert row.status == "sent"
    outgoing.sink.refuse["gone@example.com"] = "550 5.1.1 no such user"
    pipeline.ingest(outgoing.runtime, raw_mail(sender="gone@example.com", subject="x"), source="t")
    outgoing.send()
    failed = _rows(outgoing)[-1]
    assert failed.status == "failed"
    with outgoing.runtime.db.transaction(write=False) as session:
        attempts = session.scalar(
            select(func.count())
            .select_from(OutboxAttempt)
            .where(OutboxAttempt.outbox_id == failed.id)
        )
    assert attempts == 1


def test_bounce_of_our_mail_is_matched(outgoing: Outgoing) -> None:
    """A delivery report about our reply marks it bounced, flags the address (further
    mail to it is held) and leaves an internal note on the ticket."""
    outcome = pipeline.ingest(
        outgoing.runtime, raw_mail(sender="leaving@customer.example"), source="t"
    )
    [ack] = outgoing.send()
    report = (
        b"From: MAILER-DAEMON@mx.customer.example\r\nTo: support@support.example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn9@mx.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        b"--r\r\nContent-Type: text/plain\r\n\r\nGone.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; leaving@customer.example\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        + f"Message-ID: {ack.header('Message-ID')}\r\nSubject: x\r\n\r\n--r--\r\n".encode()
    )
    bounce = pipeline.ingest(outgoing.runtime, report, source="t")
    assert bounce.status == "ignored"
    assert bounce.ticket_id == outcome.ticket_id
    with outgoing.runtime.db.transaction() as session:
        flag = session.get(AddressFlag, "leaving@customer.example")
        assert flag is not None
        assert flag.bouncing is True
        notes = session.scalars(
            select(Comment.body).where(Comment.ticket_id == outcome.ticket_id, Comment.is_internal)
        ).all()
        assert any("bounced" in n for n in notes)
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket is not None
        _comment, held = send_reply(
            session, outgoing.runtime, SYSTEM, ticket, body="Hi?", now=utcnow()
        )
        assert held.status == "held"
    assert _rows(outgoing)[0].status == "bounced"
