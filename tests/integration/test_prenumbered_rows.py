"""Rows numbered before their INSERT (`hubdesk.db.ids`) and the reads that leave them pending
(`hubdesk.db.reads`), on both databases.

A bulk batch gives each new ticket, comment and email-log row its id at once and writes them
with the batch's next flush: no id is handed out twice (not within a transaction, not to a
row inserted without one, not to two transactions at once), the rows that refer to them are
written after them in the same flush, and a read that could see a pending row flushes it
first while one that could not leaves it pending."""

from __future__ import annotations

import threading
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from hubdesk.db import deferred, ids, reads
from hubdesk.runtime import Runtime
from hubdesk.tickets import comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Comment, Ticket, TicketTag
from hubdesk.users.permissions import SYSTEM

UTC = ZoneInfo("UTC")


def _new_ticket(session: Session, subject: str) -> Ticket:
    return tickets.create_ticket(session, SYSTEM, tickets.NewTicket(subject=subject), tz=UTC)


def _enabled(session: Session) -> None:
    deferred.enable(session)
    ids.enable(session)
    reads.track_pending(session)


def _tickets(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def _first_ticket(session: Session, subject: str) -> Ticket:
    """A batch session's first ticket, written: see `_flushes`."""
    _enabled(session)
    made = _new_ticket(session, subject)
    session.flush()
    return made


def _flushes(session: Session) -> list[int]:
    """The session's flushes from now on. The tests made a ticket in the session before and
    flushed it: the lookups a ticket's first creation makes (its SLA policy) are kept for
    the transaction, and the first one's query flushed what was pending."""
    seen: list[int] = []
    event.listen(session, "before_flush", lambda *_args: seen.append(1))
    return seen


def test_a_batch_numbers_its_rows_without_flushing_and_writes_them_in_one_flush(
    runtime: Runtime,
) -> None:
    with runtime.db.transaction() as session:
        first = _first_ticket(session, "before the batch")
        flushes = _flushes(session)
        made = [_new_ticket(session, f"in the batch {n}") for n in range(3)]
        note = comments.add_comment(session, SYSTEM, made[0], "a note", internal=True)
        assert [t.id for t in made] == [first.id + 1, first.id + 2, first.id + 3]
        assert note.id is not None
        assert flushes == []  # numbered without a flush
        deferred.flush(session)
        assert len(flushes) == 1
    with runtime.db.transaction(write=False) as session:
        subjects = session.scalars(select(Ticket.subject).order_by(Ticket.id)).all()
        assert subjects == ["before the batch"] + [f"in the batch {n}" for n in range(3)]
        assert session.get(Comment, note.id) is not None


def test_a_loaded_row_keeps_its_id_even_with_its_attributes_expired(runtime: Runtime) -> None:
    """`ids.assign` numbers a new object by its dictionary: a loaded one whose attributes
    are expired (none in its dictionary) is not new, and keeps its id."""
    with runtime.db.transaction() as session:
        first = _first_ticket(session, "first")
        known = first.id
        session.expire(first)
        assert "id" not in first.__dict__
        assert ids.assign(session, first)
        assert first.id == known
        assert _new_ticket(session, "next").id == known + 1


def test_a_row_inserted_without_an_id_in_a_batch_takes_the_next_one_not_a_handed_out_one(
    runtime: Runtime,
) -> None:
    """A ticket added without an id before a numbered one is INSERTed first: on SQLite the
    database would give it the largest id plus one, the id the counter gave the numbered
    ticket. It takes its id from the same counter at its INSERT instead."""
    with runtime.db.transaction() as session:
        _first_ticket(session, "first")
        flushes = _flushes(session)
        unnumbered = Ticket(ticket_number="TKT-19990101-001", subject="unnumbered")
        session.add(unnumbered)
        numbered = _new_ticket(session, "numbered")
        assert flushes == []
        session.flush()
        assert unnumbered.id == numbered.id + 1
    assert _tickets(runtime) == 3


def test_a_session_that_is_not_enabled_leaves_the_numbering_to_the_database(
    runtime: Runtime,
) -> None:
    with runtime.db.transaction() as session:
        ticket = Ticket(ticket_number="TKT-19990101-001", subject="plain")
        session.add(ticket)
        assert not ids.assign(session, ticket)
        assert ticket.id is None
        flushes = _flushes(session)
        made = _new_ticket(session, "made")  # flushes to learn its id, as before
        assert made.id is not None
        assert flushes


def test_two_batches_at_once_never_hand_out_the_same_id(runtime: Runtime) -> None:
    """PostgreSQL: both draw from the table's sequence. SQLite: the second batch starts
    once the first committed (BEGIN IMMEDIATE), and counts on from its rows."""
    got: dict[str, list[int]] = {}
    started = threading.Barrier(2) if runtime.db.dialect == "postgresql" else None

    def batch(name: str) -> None:
        with runtime.db.transaction() as session:
            _enabled(session)
            if started is not None:
                started.wait(timeout=10)
            got[name] = [_new_ticket(session, f"{name} {n}").id for n in range(30)]
            deferred.flush(session)

    workers = [threading.Thread(target=batch, args=(name,)) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(got["a"]) == len(got["b"]) == 30
    assert not set(got["a"]) & set(got["b"])
    assert _tickets(runtime) == 60


def test_get_answers_a_pending_row_itself_and_touching_flushes_only_what_it_could_see(
    runtime: Runtime,
) -> None:
    with runtime.db.transaction() as session:
        old = _first_ticket(session, "flushed")
        session.expunge(old)  # not in the identity map: `get` reads it from the database
        flushes = _flushes(session)
        pending = _new_ticket(session, "pending")
        assert reads.get(session, Ticket, pending.id) is pending
        assert reads.get(session, Ticket, old.id) is not None
        assert reads.get(session, Ticket, pending.id + 100) is None
        with reads.touching(session, Ticket, where=lambda t: t.ticket_number == "TKT-X"):
            pass
        assert flushes == []  # nothing read could see the pending ticket
        with reads.touching(
            session, Ticket, where=lambda t: t.ticket_number == pending.ticket_number
        ):
            found = session.scalars(
                select(Ticket).where(Ticket.ticket_number == pending.ticket_number)
            ).one()
        assert found is pending
        assert len(flushes) == 1


def test_a_pending_row_whose_key_is_not_known_yet_is_flushed_before_a_get(
    runtime: Runtime,
) -> None:
    """A tag added through its ticket learns its ticket id at the flush: a `get` cannot tell
    it apart before, so it flushes, then finds it."""
    with runtime.db.transaction() as session:
        made = _new_ticket(session, "tagged")
    with runtime.db.transaction() as session:
        _enabled(session)
        ticket = session.get(Ticket, made.id)
        assert ticket is not None
        ticket.tag_rows.append(TicketTag(tag="printer", position=0))
        flushes = _flushes(session)
        tag = reads.get(session, TicketTag, (ticket.id, "printer"))
        assert tag is not None
        assert tag.ticket_id == ticket.id
        assert len(flushes) == 1


def test_made_of_lists_the_new_rows_pending_or_written_until_rolled_back(
    runtime: Runtime,
) -> None:
    """`reads.made_of`: every new object of a tracking session, before and after its
    flush, in the order made; one rolled back with its savepoint is dropped; a session
    that does not track answers None, as does one that stopped (`reads.untrack`), whose
    listeners are gone."""
    with runtime.db.transaction() as session:
        assert reads.made_of(session, Ticket) is None
        _enabled(session)
        first = _new_ticket(session, "First")
        assert list(reads.made_of(session, Ticket) or ()) == [first]
        session.flush()
        assert list(reads.pending_of(session, Ticket)) == []
        assert list(reads.made_of(session, Ticket) or ()) == [first]
        savepoint = session.begin_nested()
        second = _new_ticket(session, "Second")
        session.flush()
        assert list(reads.made_of(session, Ticket) or ()) == [first, second]
        savepoint.rollback()
        assert list(reads.made_of(session, Ticket) or ()) == [first]
        assert list(reads.made_of(session, Comment) or ()) == []
        # a batch's work done: nothing tracked, and nothing called for what is made later
        # or detached at the close
        dropped: list[object] = []
        event.listen(session, "persistent_to_detached", lambda _s, obj: dropped.append(obj))
        reads.untrack(session)
        assert reads.made_of(session, Ticket) is None
        third = _new_ticket(session, "Third")
        assert list(reads.pending_of(session, Ticket)) == [third]  # from the session itself
        session.flush()
        for name in ("transient_to_pending", "pending_to_persistent", "persistent_to_detached"):
            assert len(getattr(session.dispatch, name)) == (name == "persistent_to_detached")
    assert first in dropped
    assert third in dropped


def test_made_since_tells_the_rows_made_after_a_mark_apart(runtime: Runtime) -> None:
    """`reads.made_mark` and `reads.made_since`: the rows made after the mark, in order,
    written or not; None where that cannot be told (no tracking, no mark)."""
    with runtime.db.transaction() as session:
        assert reads.made_mark(session, Ticket) is None
        assert reads.made_since(session, Ticket, frozenset()) is None
        _enabled(session)
        first = _new_ticket(session, "First")
        mark = reads.made_mark(session, Ticket)
        assert mark == frozenset({first.id})
        second = _new_ticket(session, "Second")
        session.flush()
        third = _new_ticket(session, "Third")
        assert reads.made_since(session, Ticket, mark) == [second, third]
        assert reads.made_since(session, Ticket, None) is None
