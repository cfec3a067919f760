"""`hubdesk.db.inserts`: a bulk batch's new rows (contact, ticket and its tags, email log,
comment, SLA clock, participant) written with one executemany a table around the ORM's
flush of the rest, on both databases: the same rows as the ORM writes, in the order the
foreign keys need, objects as the ORM leaves them (persistent, every column loaded but the
computed one, a later change an UPDATE, forgotten by a rollback); what cannot go this way
is left to the ORM, and a model that cannot is refused by name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import DateTime, ForeignKey, Integer, event, func, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

import hubdesk.intake.bulk  # noqa: F401 - orders a ticket after its contact (`ids.order_after`)
from hubdesk.customers.models import Contact
from hubdesk.db import ids, inserts, reads, rows
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.sla.models import SlaClock
from hubdesk.tickets.models import Comment, EmailLog, Ticket, TicketParticipant, TicketTag

_AT = datetime(2026, 12, 6, 2, 5, 7, 250000, tzinfo=UTC)
_PLAIN = (Contact, Ticket, TicketTag, EmailLog, Comment, SlaClock, TicketParticipant)


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    """Each statement's first words (`INSERT INTO CONTACTS`), in the order sent."""
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

    def listener(_mapper: Any, _connection: Any, target: Any) -> None:
        seen.append(type(target).__name__)

    for model in _PLAIN:
        event.listen(model, "before_insert", listener)
    try:
        yield seen
    finally:
        for model in _PLAIN:
            event.remove(model, "before_insert", listener)


def _batch(session: Session, *, plain: bool = True) -> None:
    """`session` as a bulk batch's: numbered rows, tracked new objects, and (with `plain`)
    the new rows written set-wise."""
    ids.enable(session)
    reads.track_pending(session)
    if plain:
        inserts.enable(session, *_PLAIN)


def _ledger_row(runtime: Runtime, n: int) -> int:
    with runtime.db.transaction() as session:
        return inbound.add_received_many(session, [(f"{n:064d}", 10, f"test#{n}")])[0].id


def _mail(session: Session, n: int, inbound_id: int) -> dict[str, Any]:
    """What a first mail from a new sender makes, as the pipeline makes it: its contact,
    its ticket with a tag (set on the relationship), the email log, the comment, the SLA
    clock and the participant, some columns left to their defaults; and its ledger row's
    fate (a change, the ORM's)."""
    row = session.get(InboundMessage, inbound_id)  # before anything new: no autoflush
    assert row is not None
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
    ticket.tag_rows = [TicketTag(tag=f"tag{n}", position=0)]
    ids.assign(session, ticket)
    log = rows.new(
        EmailLog,
        ticket_id=ticket.id,
        inbound_id=inbound_id,
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
        "tag": ticket.tag_rows[0],
        "log": log,
        "comment": comment,
        "clock": clock,
        "participant": participant,
    }
    session.add_all(made.values())
    inbound.settle(row, "processed", "created", ticket_id=ticket.id)
    return made


_NUMBERS = {"id", "ticket_id", "contact_id", "author_contact_id", "email_log_id", "inbound_id"}
_PER_MAIL = {"email", "ticket_number", "subject", "name", "email_message_id", "tag"}
_PER_MAIL |= {"email_subject", "email_from", "thread_data"}


def _stored(runtime: Runtime, made: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every column of each row as stored, but the keys and what each mail has its own."""
    found = {}
    with runtime.db.transaction(write=False) as session:
        for name, obj in made.items():
            mapper = inspect(type(obj))
            key = mapper.primary_key_from_instance(obj)
            row = session.get(type(obj), key[0] if len(key) == 1 else tuple(key))
            skip = _NUMBERS | _PER_MAIL | ({"created_at"} if name == "contact" else set())
            found[name] = {p.key: getattr(row, p.key) for p in mapper.column_attrs}
            if name == "contact":  # its default: the time of the INSERT
                assert found[name]["created_at"] is not None
            found[name] = {k: v for k, v in found[name].items() if k not in skip}
    return found


def test_new_rows_take_one_insert_a_table_around_the_orms_flush(runtime: Runtime) -> None:
    """Two mails: the rows the ledger's change refers to (contact, ticket, tag, clock,
    participant) before the ORM's UPDATE of the ledger, the ones that refer to the ledger
    (email log, comment) after it; one INSERT a table, none by the unit of work. The rows
    are the ones the ORM writes (defaults included, the tag's ticket copied from the
    relationship), and the objects come out persistent with every column loaded but the
    ticket's computed rank: reading them, or flushing again, sends nothing."""
    ledger = [_ledger_row(runtime, n) for n in range(1, 5)]
    with runtime.db.transaction() as session:
        _batch(session, plain=False)
        by_orm = [_mail(session, n, ledger[n - 1]) for n in (1, 2)]
        session.flush()
    with runtime.db.transaction() as session:
        _batch(session)
        made = [_mail(session, n, ledger[n - 1]) for n in (3, 4)]
        with _statements(session) as seen, _orm_inserts() as by_orm_flush:
            inserts.flush(session)
        assert by_orm_flush == []
        written = [s for s in seen if s.split()[0] in ("INSERT", "UPDATE")]
        assert written[:2] == ["INSERT INTO CONTACTS", "INSERT INTO TTICKET_TICKETS"]
        assert sorted(written[2:5]) == [
            "INSERT INTO SLA_TICKET_CLOCKS",
            "INSERT INTO TTICKET_PARTICIPANTS",
            "INSERT INTO TTICKET_TICKET_TAGS",
        ]
        assert written[5:] == [
            "UPDATE INBOUND_MESSAGES SET",
            "INSERT INTO TTICKET_EMAIL_LOG",
            "INSERT INTO TTICKET_COMMENTS",
        ]
        with _statements(session) as seen:
            for objs in made:
                for obj in objs.values():
                    assert inspect(obj).persistent
                    for prop in inspect(type(obj)).column_attrs:
                        if prop.key != "priority_rank":
                            getattr(obj, prop.key)
            assert made[0]["log"].direction == "inbound"  # a default, put into the object
            assert made[0]["comment"].is_internal is False
            assert made[0]["ticket"].version == 1
            assert made[0]["ticket"].tags == ["tag3"]
            session.flush()
        assert seen == []
    for ours, theirs in zip(made, by_orm, strict=True):
        assert _stored(runtime, ours) == _stored(runtime, theirs)


def test_a_written_row_changes_by_update_and_a_rollback_forgets_it(runtime: Runtime) -> None:
    ledger = _ledger_row(runtime, 5)
    with runtime.db.transaction() as session:
        _batch(session)
        made = _mail(session, 5, ledger)
        inserts.flush(session)
        made["comment"].body = "It is out"
        made["ticket"].status = "in_progress"
        with _statements(session) as seen:
            session.flush()
        assert sorted(s for s in seen if s.split()[0] in ("INSERT", "UPDATE")) == [
            "UPDATE TTICKET_COMMENTS SET",
            "UPDATE TTICKET_TICKETS SET",
        ]
        assert made["ticket"].version == 2
        assert list(reads.made_of(session, Comment) or []) == [made["comment"]]
        session.rollback()
        assert all(inspect(obj).transient for obj in made.values())
        assert list(reads.made_of(session, Comment) or []) == []
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(Contact.id).where(Contact.email == "c5@example.com")) is None


def test_a_table_on_both_sides_of_the_orms_rows_is_left_to_it(runtime: Runtime) -> None:
    """A new outbox message (the ORM's: an acknowledgement) refers to the email log, which
    refers to the ledger the ORM changes: the email log goes with the ORM's flush (which
    orders it before the message, `ids.order_after`), the comment that refers to it after
    that flush, the others before it, still set-wise."""
    ledger = _ledger_row(runtime, 6)
    with runtime.db.transaction() as session:
        _batch(session)
        made = _mail(session, 6, ledger)
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
        with _statements(session) as seen, _orm_inserts() as by_orm_flush:
            inserts.flush(session)
        assert by_orm_flush == ["EmailLog"]
        written = [s for s in seen if s.split()[0] in ("INSERT", "UPDATE")]
        log, outbox = "INSERT INTO TTICKET_EMAIL_LOG", "INSERT INTO OUTBOX_MESSAGES"
        assert written.index(log) < written.index(outbox)
        assert written[-1] == "INSERT INTO TTICKET_COMMENTS"
        assert all(inspect(obj).persistent for obj in made.values())
    assert _stored(runtime, made)["comment"]["body"] == "It is on fire"


def test_inside_a_savepoint_the_orm_writes_them_and_its_rollback_drops_them(
    runtime: Runtime,
) -> None:
    kept_row, dropped_row = _ledger_row(runtime, 7), _ledger_row(runtime, 8)
    with runtime.db.transaction() as session:
        _batch(session)
        kept = _mail(session, 7, kept_row)
        inserts.flush(session)
        savepoint = session.begin_nested()
        dropped = _mail(session, 8, dropped_row)
        with _orm_inserts() as by_orm_flush:
            inserts.flush(session)
        assert "EmailLog" in by_orm_flush
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


class _Base(DeclarativeBase):
    pass


class _Stamped(_Base):
    __tablename__ = "stamped"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class _Evented(_Base):
    __tablename__ = "evented"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


event.listen(_Evented, "after_insert", lambda *_args: None)


class _Tagged(_Base):
    __tablename__ = "tagged"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamped: Mapped[list[_Stamped]] = relationship(secondary="tagged_stamped")


class _TaggedStamped(_Base):
    __tablename__ = "tagged_stamped"
    tagged_id: Mapped[int] = mapped_column(ForeignKey("tagged.id"), primary_key=True)
    stamped_id: Mapped[int] = mapped_column(ForeignKey("stamped.id"), primary_key=True)


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (_Stamped, r"_Stamped\.at is written by the database: the ORM writes it"),
        (_Evented, "_Evented has insert events: the ORM writes it"),
        (_Tagged, r"_Tagged\.stamped is many-to-many: the ORM writes it"),
    ],
)
def test_a_model_the_orm_must_write_is_refused_by_name(model: type, reason: str) -> None:
    with Session() as session, pytest.raises(ValueError, match=reason):
        inserts.enable(session, model)
