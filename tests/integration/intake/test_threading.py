"""Which ticket a mail lands on, and who may add to a ticket (RELIABILITY T18, T19)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hubdesk.customers import service as customers
from hubdesk.intake import pipeline
from hubdesk.intake.types import Outcome
from hubdesk.runtime import Runtime
from hubdesk.tickets import service as tickets
from hubdesk.tickets.message_ids import make_message_id
from hubdesk.tickets.models import Comment, EmailLog, Ticket, TicketParticipant
from hubdesk.users.permissions import SYSTEM
from tests.support.api import make_user
from tests.support.mail import raw_mail


def _ingest(runtime: Runtime, **kwargs: object) -> Outcome:
    return pipeline.ingest(runtime, raw_mail(**kwargs), source="test")  # type: ignore[arg-type]


def _log(runtime: Runtime, outcome: Outcome) -> EmailLog:
    with runtime.db.transaction(write=False) as session:
        row = session.scalars(
            select(EmailLog).where(EmailLog.inbound_id == outcome.inbound_id)
        ).one()
        session.expunge(row)
        return row


def test_in_reply_to_a_stored_message_links_a_participant(runtime: Runtime) -> None:
    """A reply naming a Message-ID stored on the ticket links a sender who takes part (here
    someone the customer copied in); a stranger is refused in test_sender_trust."""
    first = _ingest(runtime, message_id="<orig@example.com>", cc=["colleague@other.example"])
    reply = _ingest(
        runtime,
        sender="colleague@other.example",
        subject="Re: help",
        in_reply_to="<orig@example.com>",
        body="Adding details.",
    )
    assert reply.status == "linked"
    assert reply.ticket_id == first.ticket_id
    log = _log(runtime, reply)
    assert log.decision == "message_id"
    assert "In-Reply-To <orig@example.com>" in log.reason
    assert log.is_reply is True


def test_references_newest_first(runtime: Runtime) -> None:
    """With no In-Reply-To, the newest stored id in References decides."""
    a = _ingest(runtime, message_id="<a@example.com>", subject="First")
    b = _ingest(runtime, message_id="<b@example.com>", subject="Second")
    reply = _ingest(runtime, references=["<a@example.com>", "<unknown@x>", "<b@example.com>"])
    assert a.ticket_id != b.ticket_id
    assert reply.ticket_id == b.ticket_id
    assert "References <b@example.com>" in _log(runtime, reply).reason


def test_our_signed_message_id_links(runtime: Runtime) -> None:
    """A verified Message-ID of ours for a ticket links even if we never stored it."""
    first = _ingest(runtime)
    assert first.ticket_number is not None
    ours = make_message_id(first.ticket_number, runtime.secret_key, "support.example.com")
    reply = _ingest(runtime, sender="stranger@x.example", in_reply_to=ours)
    assert reply.ticket_id == first.ticket_id
    assert "signed Message-ID" in _log(runtime, reply).reason


def test_forged_signed_id_is_only_a_hint(runtime: Runtime) -> None:
    """An id in our format with a wrong MAC is a hint, refused for a stranger (T19)."""
    first = _ingest(runtime)
    forged = f"<{first.ticket_number}.0123456789abcdef.0123456789abcdef0123@support.example.com>"
    reply = _ingest(runtime, sender="stranger@x.example", in_reply_to=forged)
    assert reply.status == "created"
    assert reply.ticket_id != first.ticket_id
    log = _log(runtime, reply)
    assert log.decision == "hint_refused"


def test_subject_token_from_the_contact_links(runtime: Runtime) -> None:
    """Under the participants policy the ticket's own contact links with the token alone."""
    first = _ingest(runtime, sender="alice@customer-a.example")
    reply = _ingest(
        runtime, sender="Alice@Customer-A.example", subject=f"Re: [{first.ticket_number}] help"
    )
    assert reply.status == "linked"
    assert reply.ticket_id == first.ticket_id
    log = _log(runtime, reply)
    assert log.decision == "subject_token"
    assert "contact" in log.reason


def test_subject_token_from_a_stranger_makes_a_new_ticket(runtime: Runtime) -> None:
    """T18: a stranger naming a ticket gets a new ticket recording the name; nothing is
    appended to the named ticket and their Cc is not added as a watcher."""
    first = _ingest(runtime, sender="alice@customer-a.example")
    spoof = _ingest(
        runtime,
        sender="stranger@evil.example",
        subject=f"Re: [{first.ticket_number}] urgent change of bank account",
        cc=["attacker@evil.example"],
    )
    assert spoof.status == "created"
    assert spoof.ticket_id != first.ticket_id
    with runtime.db.transaction(write=False) as session:
        assert (
            session.scalars(select(Comment).where(Comment.ticket_id == first.ticket_id)).all() == []
        )
        watchers = session.scalars(
            select(TicketParticipant.email).where(TicketParticipant.ticket_id == first.ticket_id)
        ).all()
        assert watchers == ["alice@customer-a.example"]
        new = session.get(Ticket, spoof.ticket_id)
        assert new is not None
        assert new.custom_fields["email_named_ticket"] == first.ticket_number
    assert _log(runtime, spoof).decision == "hint_refused"


def test_subject_token_from_the_customers_domain_links(runtime: Runtime) -> None:
    """A colleague at the ticket customer's domain may add with the token."""
    with runtime.db.transaction() as session:
        customers.create_customer(
            session, SYSTEM, name="Customer A", domains=["customer-a.example"]
        )
    first = _ingest(runtime, sender="alice@customer-a.example")
    reply = _ingest(runtime, sender="bob@customer-a.example", subject=f"Re: {first.ticket_number}")
    assert reply.ticket_id == first.ticket_id
    assert "domain" in _log(runtime, reply).reason


def test_subject_token_from_an_authentic_agent_links(runtime: Runtime) -> None:
    """An agent whose address our receiving server vouches for (DMARC pass under
    TRUSTED_AUTHSERV_ID) adds to the ticket as themselves."""
    runtime = replace(
        runtime,
        settings=runtime.settings.model_copy(update={"trusted_authserv_id": "mx.example.net"}),
    )
    make_user(runtime, ["agents"], email="agent@support.example.com")
    first = _ingest(runtime)
    reply = _ingest(
        runtime,
        sender="agent@support.example.com",
        subject=f"[{first.ticket_number}] update",
        headers={"Authentication-Results": "mx.example.net; dmarc=pass"},
    )
    assert reply.ticket_id == first.ticket_id
    with runtime.db.transaction(write=False) as session:
        comment = session.scalars(select(Comment).where(Comment.ticket_id == first.ticket_id)).one()
        assert comment.author_user_id is not None
        assert comment.author_contact_id is None


def test_policy_any_links_a_stranger(runtime: Runtime) -> None:
    """TICKET_THREADING_POLICY=any is the spec's literal behaviour."""
    loose = replace(
        runtime, settings=runtime.settings.model_copy(update={"ticket_threading_policy": "any"})
    )
    first = _ingest(loose)
    reply = _ingest(loose, sender="anyone@x.example", subject=f"Re: [{first.ticket_number}]")
    assert reply.ticket_id == first.ticket_id


def test_unknown_ticket_number_makes_a_new_ticket(runtime: Runtime) -> None:
    """A token naming no ticket opens a new ticket and says so."""
    outcome = _ingest(runtime, subject="Re: [TKT-20200101-999] old thing")
    assert outcome.status == "created"
    assert "does not exist" in _log(runtime, outcome).reason


def test_merged_tickets_are_followed(runtime: Runtime) -> None:
    """A reply to a ticket that was merged lands on the ticket it was merged into."""
    source = _ingest(runtime, message_id="<src@example.com>")
    target = _ingest(runtime, subject="Other")
    with runtime.db.transaction() as session:
        tickets.merge_ticket(
            session,
            SYSTEM,
            session.get(Ticket, source.ticket_id),  # type: ignore[arg-type]
            session.get(Ticket, target.ticket_id),  # type: ignore[arg-type]
        )
    reply = _ingest(runtime, in_reply_to="<src@example.com>")
    assert reply.ticket_id == target.ticket_id


def test_reply_reopens_a_closed_ticket(runtime: Runtime) -> None:
    """A customer reply reopens a resolved ticket (audited as reopened)."""
    first = _ingest(runtime, message_id="<o@example.com>")
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "resolved"})
    reply = _ingest(runtime, in_reply_to="<o@example.com>", date=datetime.now(UTC))
    assert reply.status == "linked"
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        assert ticket.status == "open"
        assert ticket.resolved_at is None


def test_reply_after_the_reopen_window_opens_a_follow_up(runtime: Runtime) -> None:
    """After TICKET_REOPEN_DAYS a reply opens a new ticket that records follow_up_of."""
    first = _ingest(runtime, message_id="<old@example.com>")
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        long_ago = datetime.now(UTC) - timedelta(days=runtime.settings.ticket_reopen_days + 1)
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "resolved"}, now=long_ago)
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "closed"}, now=long_ago)
    reply = _ingest(runtime, in_reply_to="<old@example.com>")
    assert reply.status == "created"
    assert reply.ticket_id != first.ticket_id
    with runtime.db.transaction(write=False) as session:
        new = session.get(Ticket, reply.ticket_id)
        old = session.get(Ticket, first.ticket_id)
        assert new is not None
        assert old is not None
        assert new.custom_fields["follow_up_of"] == first.ticket_number
        assert old.status == "closed"


def test_waiting_for_customer_goes_back_to_open(runtime: Runtime) -> None:
    """The spec: a reply to a ticket waiting for the customer brings it back to open."""
    first = _ingest(runtime, message_id="<w@example.com>")
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "waiting_customer"})
    _ingest(runtime, in_reply_to="<w@example.com>")
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        assert ticket.status == "open"


def test_cc_of_a_new_ticket_are_participants(runtime: Runtime) -> None:
    """CC'd addresses of a new request take part; our own addresses never do."""
    outcome = _ingest(runtime, cc=["boss@customer.example", "support@support.example.com"])
    with runtime.db.transaction(write=False) as session:
        rows = session.execute(
            select(TicketParticipant.email, TicketParticipant.role)
            .where(TicketParticipant.ticket_id == outcome.ticket_id)
            .order_by(TicketParticipant.email)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("boss@customer.example", "cc"),
        ("customer@example.com", "contact"),
    ]
