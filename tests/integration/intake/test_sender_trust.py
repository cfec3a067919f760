"""An address alone is never a credential (issue 13): forged agents, quoted customer
Message-IDs, and the receiving server's Authentication-Results (RELIABILITY design rule 3)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import pipeline
from hubdesk.intake.types import Outcome
from hubdesk.runtime import Runtime
from hubdesk.tickets.message_ids import make_message_id
from hubdesk.tickets.models import Comment, EmailLog, Ticket, TicketParticipant
from tests.support.api import Api, make_user
from tests.support.mail import raw_mail

AGENT = "agent@support.example.com"
AUTHSERV = "mx.support.example.com"


def _ingest(runtime: Runtime, **kwargs: object) -> Outcome:
    return pipeline.ingest(runtime, raw_mail(**kwargs), source="test")  # type: ignore[arg-type]


def _trusting(runtime: Runtime, **settings: object) -> Runtime:
    update = {"trusted_authserv_id": AUTHSERV, **settings}
    return replace(runtime, settings=runtime.settings.model_copy(update=update))


def _auth(result: str, domain: str, authserv: str = AUTHSERV) -> dict[str, str]:
    return {
        "Authentication-Results": f"{authserv}; spf=none smtp.mailfrom={domain}; "
        f"dmarc={result} header.from={domain}"
    }


def _log(runtime: Runtime, outcome: Outcome) -> EmailLog:
    with runtime.db.transaction(write=False) as session:
        row = session.scalars(
            select(EmailLog).where(EmailLog.inbound_id == outcome.inbound_id)
        ).one()
        session.expunge(row)
        return row


def _ticket(runtime: Runtime, ticket_id: int | None) -> Ticket:
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def _comments(runtime: Runtime, ticket_id: int | None) -> list[Comment]:
    with runtime.db.transaction(write=False) as session:
        rows = list(session.scalars(select(Comment).where(Comment.ticket_id == ticket_id)))
        for row in rows:
            session.expunge(row)
        return rows


def _participants(runtime: Runtime, ticket_id: int | None) -> set[str]:
    with runtime.db.transaction(write=False) as session:
        return set(
            session.scalars(
                select(TicketParticipant.email).where(TicketParticipant.ticket_id == ticket_id)
            )
        )


def test_a_forged_agent_from_gets_into_no_ticket(runtime: Runtime) -> None:
    """The probe's mail: an agent's From, the ticket's token and a Cc to an outsider. It is
    not linked, writes no comment as the agent, sets no first response and adds nobody."""
    make_user(runtime, ["agents"], email=AGENT)
    first = _ingest(runtime, sender="alice@customer-a.example")
    forged = _ingest(
        runtime,
        sender=AGENT,
        subject=f"Re: [{first.ticket_number}] please change the bank account",
        cc=["outsider@evil.example"],
    )
    assert forged.status == "created"
    assert forged.ticket_id != first.ticket_id
    assert _comments(runtime, first.ticket_id) == []
    assert _ticket(runtime, first.ticket_id).first_response_at is None
    assert _participants(runtime, first.ticket_id) == {"alice@customer-a.example"}
    log = _log(runtime, forged)
    assert log.decision == "hint_refused"
    assert AGENT in log.reason
    new = _ticket(runtime, forged.ticket_id)
    assert new.custom_fields["email_named_ticket"] == first.ticket_number
    assert new.contact_id is None, "an agent's address is never made a customer contact"


def test_a_forged_agent_quoting_a_stored_message_id_is_refused(runtime: Runtime) -> None:
    """A customer's Message-ID is no secret: quoting it does not make the agent's From real."""
    make_user(runtime, ["agents"], email=AGENT)
    first = _ingest(runtime, sender="alice@customer-a.example", message_id="<ask@customer-a>")
    forged = _ingest(runtime, sender=AGENT, in_reply_to="<ask@customer-a>", body="Done.")
    assert forged.ticket_id != first.ticket_id
    assert _log(runtime, forged).decision == "reference_refused"
    assert _comments(runtime, first.ticket_id) == []


def test_a_forged_agent_with_our_signed_id_links_but_not_as_the_agent(runtime: Runtime) -> None:
    """Our signed Message-ID proves the writer saw our mail, not who they are: the mail is
    added as an outsider's reply, without the agent's name, first response or watchers."""
    make_user(runtime, ["agents"], email=AGENT)
    first = _ingest(runtime, sender="alice@customer-a.example")
    assert first.ticket_number is not None
    ours = make_message_id(first.ticket_number, runtime.secret_key, "support.example.com")
    reply = _ingest(runtime, sender=AGENT, in_reply_to=ours, cc=["outsider@evil.example"])
    assert reply.ticket_id == first.ticket_id
    [comment] = _comments(runtime, first.ticket_id)
    assert comment.author_user_id is None
    assert _ticket(runtime, first.ticket_id).first_response_at is None
    assert "outsider@evil.example" not in _participants(runtime, first.ticket_id)


def test_an_agent_vouched_for_by_the_trusted_server_answers_as_the_agent(
    runtime: Runtime,
) -> None:
    """DMARC pass from our own receiving server makes the agent's address authentic."""
    trusting = _trusting(runtime)
    make_user(runtime, ["agents"], email=AGENT)
    first = _ingest(trusting, sender="alice@customer-a.example")
    reply = _ingest(
        trusting,
        sender=AGENT,
        subject=f"Re: [{first.ticket_number}] your question",
        headers=_auth("pass", "support.example.com"),
    )
    assert reply.ticket_id == first.ticket_id
    [comment] = _comments(runtime, first.ticket_id)
    assert comment.author_user_id is not None
    assert _ticket(runtime, first.ticket_id).first_response_at is not None
    log = _log(runtime, reply)
    assert "is an agent (DMARC pass for support.example.com)" in log.reason
    assert log.flags["sender_verified"] == "DMARC pass for support.example.com"


def test_authentication_results_of_another_server_are_ignored(runtime: Runtime) -> None:
    """A pass written by anyone but the trusted authserv-id is the sender's own words."""
    trusting = _trusting(runtime)
    make_user(runtime, ["agents"], email=AGENT)
    first = _ingest(trusting, sender="alice@customer-a.example")
    forged = _ingest(
        trusting,
        sender=AGENT,
        subject=f"Re: [{first.ticket_number}]",
        headers=_auth("pass", "support.example.com", authserv="mx.evil.example"),
    )
    assert forged.ticket_id != first.ticket_id
    assert _comments(runtime, first.ticket_id) == []


def test_an_agent_handing_in_their_own_mail_through_the_api_is_vouched(api: Api) -> None:
    """The authenticated API is a channel that vouches for its own user's From."""
    runtime = api.runtime
    _user_id, token = make_user(runtime, ["admins"], email=AGENT)  # may inject mail
    first = _ingest(runtime, sender="alice@customer-a.example")
    raw = raw_mail(sender=AGENT, subject=f"Re: [{first.ticket_number}] phoned the customer")
    response = api.client.post(
        "/api/v1/inbound/raw",
        content=raw,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["ticket_id"] == first.ticket_id
    [comment] = _comments(runtime, first.ticket_id)
    assert comment.author_user_id is not None
    # Someone else's token vouches for nobody but its own user.
    other = raw_mail(sender=AGENT, subject=f"Re: [{first.ticket_number}] again")
    response = api.client.post(
        "/api/v1/inbound/raw",
        content=other,
        headers={**api.headers("admins"), "Content-Type": "message/rfc822"},
    )
    assert response.json()["ticket_id"] != first.ticket_id


def test_a_stranger_quoting_a_customer_message_id_gets_a_new_ticket(runtime: Runtime) -> None:
    """Threading policy applies to stored ids too: a non-participant opens a linked new ticket."""
    first = _ingest(runtime, sender="alice@customer-a.example", message_id="<q@customer-a>")
    stranger = _ingest(runtime, sender="mallory@evil.example", in_reply_to="<q@customer-a>")
    assert stranger.status == "created"
    log = _log(runtime, stranger)
    assert log.decision == "reference_refused"
    assert "no secret" in log.reason
    assert _ticket(runtime, stranger.ticket_id).custom_fields["email_named_ticket"] == (
        first.ticket_number
    )
    assert _comments(runtime, first.ticket_id) == []


def test_a_recipient_of_the_quoted_message_links(runtime: Runtime) -> None:
    """Someone the customer copied in received the message, so their answer to it links."""
    first = _ingest(
        runtime,
        sender="alice@customer-a.example",
        message_id="<q2@customer-a>",
        cc=["bob@partner.example"],
    )
    reply = _ingest(runtime, sender="bob@partner.example", in_reply_to="<q2@customer-a>")
    assert reply.ticket_id == first.ticket_id
    assert "takes part in the ticket" in _log(runtime, reply).reason


def test_a_sender_failing_dmarc_links_by_nothing_and_matches_no_contact(
    runtime: Runtime,
) -> None:
    """DMARC fail from the trusted server: no link by token or stored id, no contact, marked
    "not verified" on the ticket and in the log, and no automatic answer."""
    trusting = _trusting(runtime, ticket_auto_reply=True, smtp_host="127.0.0.1")
    first = _ingest(trusting, sender="alice@customer-a.example", message_id="<f@customer-a>")
    fake = _ingest(
        trusting,
        sender="alice@customer-a.example",
        subject=f"Re: [{first.ticket_number}] new bank account",
        in_reply_to="<f@customer-a>",
        headers=_auth("fail", "customer-a.example"),
    )
    assert fake.status == "created"
    assert fake.ticket_id != first.ticket_id
    log = _log(trusting, fake)
    assert log.decision == "reference_refused"
    assert "not verified (DMARC fail for customer-a.example)" in log.reason
    assert log.flags["sender_not_verified"] == "DMARC fail for customer-a.example"
    with trusting.db.transaction(write=False) as session:
        row = session.get(InboundMessage, fake.inbound_id)
        assert row is not None
        assert "not verified" in row.flags["auto_reply"]
    ticket = _ticket(trusting, fake.ticket_id)
    assert ticket.contact_id is None
    assert ticket.customer_id is None
    assert ticket.custom_fields["sender_not_verified"] == "DMARC fail for customer-a.example"
    assert _comments(trusting, first.ticket_id) == []


def test_a_sender_passing_dmarc_is_handled_as_usual(runtime: Runtime) -> None:
    trusting = _trusting(runtime)
    first = _ingest(trusting, sender="alice@customer-a.example")
    reply = _ingest(
        trusting,
        sender="alice@customer-a.example",
        subject=f"Re: [{first.ticket_number}] more",
        headers=_auth("pass", "customer-a.example"),
    )
    assert reply.ticket_id == first.ticket_id
    assert _log(trusting, reply).flags["sender_verified"] == "DMARC pass for customer-a.example"
