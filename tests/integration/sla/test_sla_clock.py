"""The ticket clock's rules through the real services on both databases, with explicit
moments: pause and resume, responses, a customer reply by mail, priority changes,
reopening and merging (a 24x7 calendar so that minutes are wall-clock minutes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from hubdesk.customers.models import Contact
from hubdesk.db.uow import Database
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from hubdesk.sla import service as sla
from hubdesk.sla.models import SlaClock
from hubdesk.tickets import comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users import service as users
from hubdesk.users.permissions import ALL_PERMISSIONS, SYSTEM, Principal
from tests.support import factories
from tests.support.mail import raw_mail
from tests.support.sla import ALWAYS_OPEN, policy

T0 = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _agent(session: Session) -> Principal:
    user = users.create_user(
        session, SYSTEM, email="agent@hubdesk.example.com", name="A", password=None, groups=[]
    )
    return Principal(user.id, user.email, frozenset(ALL_PERMISSIONS))


def _clock(session: Session, ticket: Ticket) -> SlaClock:
    clock = session.get(SlaClock, ticket.id)
    assert clock is not None
    return clock


def _customer_ticket(session: Session) -> tuple[Principal, Contact, Ticket, SlaClock]:
    """An agent, and a customer's contact with a ticket opened at T0 under a 24x7 policy."""
    policy(session, hours=ALWAYS_OPEN)
    agent = _agent(session)
    customer = factories.customer(session)
    contact = factories.contact(session, "kunde@acme.example.com", customer.id)
    ticket = factories.ticket(session, now=T0, contact_id=contact.id, customer_id=customer.id)
    return agent, contact, ticket, _clock(session, ticket)


def test_waiting_for_the_customer_pauses_the_clock(db: Database) -> None:
    with db.transaction() as session:
        policy(session, hours=ALWAYS_OPEN)
        ticket = factories.ticket(session, now=T0)
        clock = _clock(session, ticket)
        assert clock.first_response_due_at == _at(60)
        assert clock.resolution_due_at == _at(480)
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "waiting_customer"}, now=_at(30))
        assert clock.paused is True
        assert clock.first_response_due_at is None
        assert sla.clock_state(clock, _at(1000)) == "paused"
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "open"}, now=_at(150))
        assert clock.paused is False
        assert clock.first_response_due_at == _at(60 + 120)
        assert clock.resolution_due_at == _at(480 + 120)
        assert sla.clock_state(clock, _at(160)) == "ok"
        assert sla.clock_state(clock, _at(170)) == "warning"  # 80 % of 60: 48 minutes in
        assert sla.clock_state(clock, _at(180)) == "breached"


def test_warning_at_the_configured_percentage(db: Database) -> None:
    with db.transaction() as session:
        policy(session, hours=ALWAYS_OPEN, warning_percent=50)
        ticket = factories.ticket(session, now=T0)
        clock = _clock(session, ticket)
        assert clock.warning_at == _at(30)
        assert sla.clock_state(clock, _at(29)) == "ok"
        assert sla.clock_state(clock, _at(30)) == "warning"


def test_responses_meet_targets_and_a_customer_reply_owes_the_next(db: Database) -> None:
    with db.transaction() as session:
        agent, contact, ticket, clock = _customer_ticket(session)
        comments.add_comment(session, agent, ticket, "Looking.", now=_at(10))
        assert clock.first_response_met_at == _at(10)
        assert clock.next_response_due_at is None
        comments.add_comment(
            session, SYSTEM, ticket, "Still broken", author_contact_id=contact.id, now=_at(60)
        )
        assert clock.next_response_due_at == _at(60 + 120)
        assert clock.next_due_at == _at(180)
        # An internal note is no response.
        comments.add_comment(session, agent, ticket, "note", internal=True, now=_at(100))
        assert clock.next_response_due_at == _at(180)
        comments.add_comment(session, agent, ticket, "Fixed?", now=_at(240))
        assert clock.missed == ["next_response"]
        assert sla.clock_state(clock, _at(241)) == "breached"
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "resolved"}, now=_at(300))
        assert sla.clock_state(clock, _at(301)) == "breached"  # resolved, but a target missed


def test_a_comment_that_owes_or_meets_nothing_new_leaves_the_clock_unwritten(
    db: Database,
) -> None:
    """The customer writing again before the first answer, or again while an answer is
    owed, and a second agent answer before the customer wrote again: the due times stand and
    the clock is not written (no UPDATE: most replies of a mail import are these)."""
    with db.transaction() as session:
        agent, contact, ticket, clock = _customer_ticket(session)
        session.flush()

        def customer_writes(minute: int) -> None:
            comments.add_comment(
                session, SYSTEM, ticket, "Hello?", author_contact_id=contact.id, now=_at(minute)
            )

        customer_writes(5)  # before any answer: the first response is still owed
        assert clock not in session.dirty
        assert (clock.first_response_due_at, clock.updated_at) == (_at(60), T0)
        comments.add_comment(session, agent, ticket, "Looking.", now=_at(10))
        assert clock.first_response_met_at == _at(10)
        session.flush()
        comments.add_comment(session, agent, ticket, "Also this.", now=_at(12))
        assert clock not in session.dirty  # nothing was owed
        customer_writes(60)  # owes the next response
        assert clock.next_response_due_at == _at(180)
        session.flush()
        customer_writes(90)  # still owed, from minute 60
        assert clock not in session.dirty
        assert (clock.next_response_due_at, clock.awaiting_since) == (_at(180), _at(60))


def test_resolving_in_time_is_met_and_reopening_starts_a_new_resolution_clock(
    db: Database,
) -> None:
    with db.transaction() as session:
        policy(session, hours=ALWAYS_OPEN)
        agent = _agent(session)
        ticket = factories.ticket(session, now=T0)
        clock = _clock(session, ticket)
        comments.add_comment(session, agent, ticket, "Done.", now=_at(20))
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "resolved"}, now=_at(60))
        assert sla.clock_state(clock, _at(10_000)) == "met"
        assert clock.next_due_at is None
        tickets.update_ticket(session, SYSTEM, ticket, {"status": "open"}, now=_at(600))
        assert clock.resolution_due_at == _at(600 + 480)
        assert clock.first_response_due_at == _at(60)  # met before; unchanged
        assert sla.clock_state(clock, _at(601)) == "ok"


def test_a_priority_change_recomputes_from_the_same_start(db: Database) -> None:
    with db.transaction() as session:
        policy(session, hours=ALWAYS_OPEN)
        ticket = factories.ticket(session, now=T0)
        tickets.update_ticket(session, SYSTEM, ticket, {"priority": "critical"}, now=_at(10))
        clock = _clock(session, ticket)
        assert clock.first_response_due_at == _at(15)
        assert clock.resolution_due_at == _at(120)
        tickets.update_ticket(session, SYSTEM, ticket, {"priority": "low"}, now=_at(11))
        assert clock.first_response_due_at == _at(240)


def test_a_merge_restarts_the_target_from_the_earlier_start(db: Database) -> None:
    with db.transaction() as session:
        policy(session, hours=ALWAYS_OPEN)
        source = factories.ticket(session, "First mail", now=T0)
        target = factories.ticket(session, "Second mail", now=_at(120))
        assert _clock(session, target).first_response_due_at == _at(180)
        tickets.merge_ticket(session, SYSTEM, source, target, now=_at(130))
        assert _clock(session, target).first_response_due_at == _at(60)
        assert _clock(session, target).resolution_due_at == _at(480)
        assert _clock(session, source).stopped_at == _at(130)


def test_a_customer_reply_by_mail_resumes_a_waiting_ticket(runtime: Runtime) -> None:
    """From mail: the clock starts at the received time; waiting_customer pauses it; the
    customer's reply (threaded by In-Reply-To) resumes it at the reply's received time."""
    with runtime.db.transaction() as session:
        policy(session, hours=ALWAYS_OPEN)
    first = pipeline.ingest(
        runtime,
        raw_mail(sender="kunde@acme.example.com", message_id="<sla-1@acme.example.com>"),
        source="test",
        received_at=T0,
    )
    assert first.ticket_id is not None
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        agent = _agent(session)
        comments.add_comment(session, agent, ticket, "Please restart it.", now=_at(5))
        tickets.update_ticket(session, agent, ticket, {"status": "waiting_customer"}, now=_at(5))
        assert _clock(session, ticket).resolution_due_at is None
    reply = pipeline.ingest(
        runtime,
        raw_mail(
            sender="kunde@acme.example.com",
            subject="Re: Help with network issue",
            message_id="<sla-2@acme.example.com>",
            in_reply_to="<sla-1@acme.example.com>",
            body="Restarted, still down.",
        ),
        source="test",
        received_at=_at(65),
    )
    assert reply.ticket_id == first.ticket_id
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        assert ticket.status == "open"
        clock = _clock(session, ticket)
        assert clock.started_at == T0
        assert clock.paused is False
        # Paused 60 minutes: the resolution moves by 60; the reply owes a next response.
        assert clock.resolution_due_at == _at(480 + 60)
        assert clock.next_response_due_at == _at(65 + 120)


def test_changing_a_policys_targets_recomputes_running_clocks(db: Database) -> None:
    with db.transaction() as session:
        standard = policy(session, hours=ALWAYS_OPEN)
        ticket = factories.ticket(session, now=T0)
        body = {"normal": {**standard.targets["normal"], "first_response_minutes": 30}}
        sla.update_policy(session, SYSTEM, standard, {"targets": {**standard.targets, **body}})
        assert _clock(session, ticket).first_response_due_at == _at(30)
