"""`hubdesk.db.inserts`: a bulk batch's plain new rows (contact, email log, comment, SLA
clock, participant) written with one executemany a table around the ORM's flush of the
rest, on both databases: the same rows as the ORM writes, in the order the foreign keys
need, objects as the ORM leaves them (persistent, every column loaded, a later change an
UPDATE, forgotten by a rollback); what cannot go this way is left to the ORM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

import hubdesk.intake.bulk  # noqa: F401 - orders a ticket after its contact (`ids.order_after`)
from hubdesk.customers.models import Contact
from hubdesk.db import ids, inserts, reads, rows
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.sla.models import SlaClock
from hubdesk.tickets.models import Comment, EmailLog, Ticket, TicketParticipant
from hubdesk.users.models import User

_AT = datetime(2026, 12, 6, 2, 5, 7, 250000, tzinfo=UTC)
_PLAIN = (Contact, EmailLog, Comment, SlaClock, TicketParticipant)


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.get_bind()

    def listener(*args: Any) -> None:
        seen.append(" ".join(args[2].split()[:3]).upper())

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@contextmanager
def _orm_inserts() -> Iterator[list[str]]:
    """The classes of the objects the ORM's unit of work INSERTs meanwhile."""
    seen: list[str] = []
    models = (Ticket, *_PLAIN)

    def listener(_mapper: Any, _connection: Any, target: Any) -> None:
        seen.append(type(target).__name__)

    for model in models:
        event.listen(model, "before_insert", listener)
    try:
        yield seen
    finally:
        for model in models:
            event.remove(model, "before_insert", listener)


def _batch(session: Session, *, plain: bool = True) -> None:
    """`session` as a bulk batch's: numbered rows, tracked new objects, and (with `plain`)
    the plain rows written set-wise."""
    ids.enable(session)
    reads.track_pending(session)
    if plain:
        inserts.enable(session, *_PLAIN)


def _mail(session: Session, n: int) -> dict[str, Any]:
    """What a first mail from a new sender makes: its contact, its ticket (the ORM's), the
    email log, the comment, the SLA clock and the participant; some columns left to their
    defaults."""
    contact = rows.new(Contact, email=f"c{n}@example.com", name=f"C {n}")
    ids.assign(session, contact)
    ticket = rows.new(
        Ticket,
        ticket_number=f"TKT-20261206-{n:03d}",
        subject=f"Printer {n}",
        contact_id=contact.id,
        created_at=_AT,
        updated_at=_AT,
    )
    ids.assign(session, ticket)
    log = rows.new(
        EmailLog,
        ticket_id=ticket.id,
        email_message_id=f"<{n}@x>",
        email_subject=f"Printer {n}",
        email_from=contact.email,
        email_received_at=_AT,
        thread_data={"message_id": f"<{n}@x>"},
        body_text="text",
        created_at=_AT,
    )
    ids.assign(session, log)
    comment = rows.new(
        Comment,
        ticket_id=ticket.id,
        body="It is on fire",
        author_contact_id=contact.id,
        source="email",
        email_log_id=log.id,
        created_at=_AT,
    )
    ids.assign(session, comment)
    clock = rows.new(
        SlaClock,
        ticket_id=ticket.id,
        started_at=_AT,
        resolution_started_at=_AT,
        last_status="open",
        last_priority="normal",
        updated_at=_AT,
    )
    participant = rows.new(
        TicketParticipant, ticket_id=ticket.id, email=contact.email, role="contact", created_at=_AT
    )
    made = {
        "contact": contact,
        "ticket": ticket,
        "log": log,
        "comment": comment,
        "clock": clock,
        "participant": participant,
    }
    session.add_all(made.values())
    return made


def _stored(runtime: Runtime, made: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every column of each row as stored, but the keys the database handed out."""
    keys = {"id", "ticket_id", "contact_id", "author_contact_id", "email_log_id"}
    found = {}
    with runtime.db.transaction(write=False) as session:
        for name, obj in made.items():
            mapper = inspect(type(obj))
            key = mapper.primary_key_from_instance(obj)
            row = session.get(type(obj), key[0] if len(key) == 1 else tuple(key))
            found[name] = {
                p.key: getattr(row, p.key) for p in mapper.column_attrs if p.key not in keys
            }
    return found


def test_the_plain_rows_take_one_insert_a_table_around_the_orms_flush(runtime: Runtime) -> None:
    """The contact before the ORM's ticket, the rest after it, one INSERT a table for two
    mails; the rows are the ones the ORM writes (defaults included), and the objects come
    out persistent with every column loaded: reading them, or flushing again, sends
    nothing."""
    with runtime.db.transaction() as session:
        _batch(session, plain=False)
        by_orm = [_mail(session, n) for n in (1, 2)]
        session.flush()
    with runtime.db.transaction() as session:
        _batch(session)
        made = [_mail(session, n) for n in (3, 4)]
        with _statements(session) as seen, _orm_inserts() as by_orm_flush:
            inserts.flush(session)
        assert by_orm_flush == ["Ticket", "Ticket"]  # the rest never reached the unit of work
        assert [s for s in seen if s.startswith("INSERT")] == [
            "INSERT INTO CONTACTS",
            "INSERT INTO TTICKET_TICKETS",
            "INSERT INTO SLA_TICKET_CLOCKS",
            "INSERT INTO TTICKET_EMAIL_LOG",
            "INSERT INTO TTICKET_PARTICIPANTS",
            "INSERT INTO TTICKET_COMMENTS",
        ]
        with _statements(session) as seen:
            for objs in made:
                for name, obj in objs.items():
                    assert inspect(obj).persistent
                    if name == "ticket":  # the ORM's: its computed rank is read when asked
                        continue
                    for prop in inspect(type(obj)).column_attrs:
                        getattr(obj, prop.key)
            assert made[0]["log"].direction == "inbound"  # a default, put into the object
            assert made[0]["comment"].is_internal is False
            session.flush()
        assert seen == []
    for ours, theirs in zip(made, by_orm, strict=True):
        mine, orms = _stored(runtime, ours), _stored(runtime, theirs)
        assert mine["contact"]["created_at"] is not None  # its default, the time of the call
        for name in mine:
            differ = {"email", "ticket_number", "subject", "name", "email_message_id"}
            differ |= {"email_subject", "email_from", "thread_data"}
            if name == "contact":
                differ.add("created_at")
            assert {k: v for k, v in mine[name].items() if k not in differ} == {
                k: v for k, v in orms[name].items() if k not in differ
            }, name


def test_a_written_row_changes_by_update_and_a_rollback_forgets_it(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        _batch(session)
        made = _mail(session, 5)
        inserts.flush(session)
        made["comment"].body = "It is out"
        with _statements(session) as seen:
            session.flush()
        assert [s for s in seen if s.split()[0] in ("INSERT", "UPDATE")] == [
            "UPDATE TTICKET_COMMENTS SET"
        ]
        assert list(reads.made_of(session, Comment) or []) == [made["comment"]]
        session.rollback()
        assert all(inspect(obj).transient for obj in made.values())
        assert list(reads.made_of(session, Comment) or []) == []
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(Contact.id).where(Contact.email == "c5@example.com")) is None


def test_a_table_on_both_sides_of_the_orms_rows_is_left_to_it(runtime: Runtime) -> None:
    """A new outbox message (the ORM's: an acknowledgement) refers to the email log, which
    refers to the ORM's ticket: the email log goes with the ORM's flush (which orders it
    before the message, `ids.order_after`), the others still set-wise, the comment (which
    refers to the email log) after the ORM's flush."""
    with runtime.db.transaction() as session:
        _batch(session)
        made = _mail(session, 6)
        session.add(
            OutboxMessage(
                kind="auto_reply",
                ticket_id=made["ticket"].id,
                recipient="c6@example.com",
                envelope_from="support@example.com",
                message_id="<ack6@x>",
                subject="Re: Printer 6",
                raw=b"Subject: Re: Printer 6\r\n\r\nThanks",
                email_log_id=made["log"].id,
            )
        )
        with _statements(session) as seen:
            inserts.flush(session)
        inserted = [s for s in seen if s.startswith("INSERT")]
        assert inserted[0] == "INSERT INTO CONTACTS"
        orms = inserted[1:4]
        assert set(orms) == {
            "INSERT INTO TTICKET_TICKETS",
            "INSERT INTO TTICKET_EMAIL_LOG",
            "INSERT INTO OUTBOX_MESSAGES",
        }
        log, outbox = "INSERT INTO TTICKET_EMAIL_LOG", "INSERT INTO OUTBOX_MESSAGES"
        assert orms.index(log) < orms.index(outbox)
        assert sorted(inserted[4:]) == [
            "INSERT INTO SLA_TICKET_CLOCKS",
            "INSERT INTO TTICKET_COMMENTS",
            "INSERT INTO TTICKET_PARTICIPANTS",
        ]
        assert all(inspect(obj).persistent for obj in made.values())
    assert _stored(runtime, made)["comment"]["body"] == "It is on fire"


def test_inside_a_savepoint_the_orm_writes_them_and_its_rollback_drops_them(
    runtime: Runtime,
) -> None:
    with runtime.db.transaction() as session:
        _batch(session)
        kept = _mail(session, 7)
        inserts.flush(session)
        savepoint = session.begin_nested()
        dropped = _mail(session, 8)
        inserts.flush(session)
        assert all(inspect(obj).persistent for obj in dropped.values())
        savepoint.rollback()
        assert all(inspect(obj).transient for obj in dropped.values())
        assert all(inspect(obj).persistent for obj in kept.values())
    with runtime.db.transaction(write=False) as session:
        stored = session.scalars(select(Contact.email).where(Contact.email.like("c_@example.com")))
        assert sorted(stored) == ["c7@example.com"]


def test_a_row_without_its_key_is_refused_by_name(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        _batch(session)
        session.add(rows.new(TicketParticipant, ticket_id=None, email="x@example.com"))
        with pytest.raises(ValueError, match="a new TicketParticipant has no ticket_id"):
            inserts.flush(session)
        session.rollback()


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (Ticket, "Ticket has a version counter: the ORM writes it"),
        (User, r"User\.notify_on_assigned is written by the database: the ORM writes it"),
    ],
)
def test_a_model_the_orm_must_write_is_refused_by_name(model: type, reason: str) -> None:
    with Session() as session, pytest.raises(ValueError, match=reason):
        inserts.enable(session, model)
