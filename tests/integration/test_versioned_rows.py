"""Versioned ticket rows written with one statement a set of changed columns
(`hubdesk.db.versioned`, a bulk batch's replies), on both databases: each row's version is
still checked and moved on, a row another transaction moved on is refused as the ORM's own
UPDATE refuses it, and what the statement cannot write (another column, a relationship, a
flush inside a savepoint) is left to the ORM."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from hubdesk.db import versioned
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.support import factories

_COLUMNS = ("updated_at", "first_response_at", "status", "resolved_at", "closed_at")
_LATER = datetime(2031, 5, 6, 7, 8, 9, tzinfo=ZoneInfo("UTC"))


def _tickets(runtime: Runtime, count: int) -> list[int]:
    with runtime.db.transaction() as session:
        return [factories.ticket(session, f"Versioned {n}").id for n in range(count)]


def _updates(session: Session) -> tuple[list[int], Callable[[], None]]:
    """The rows each UPDATE of the ticket table carried (an executemany counts its rows)."""
    seen: list[int] = []
    engine = session.get_bind()

    def count(
        _conn: object, _cursor: object, statement: str, params: object, _context: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("UPDATE TTICKET_TICKETS"):
            seen.append(len(params) if many else 1)  # type: ignore[arg-type]

    event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(engine, "before_cursor_execute", count)


def _loaded(session: Session, made: list[int]) -> list[Ticket]:
    """`made`'s tickets read in a session whose changed tickets are written set-wise."""
    versioned.enable(session, Ticket, _COLUMNS)
    loaded = [session.get(Ticket, ticket_id) for ticket_id in made]
    assert all(ticket is not None for ticket in loaded)
    return [ticket for ticket in loaded if ticket is not None]


def _stored(runtime: Runtime, ticket_ids: list[int]) -> list[tuple[int, datetime, str]]:
    with runtime.db.transaction(write=False) as session:
        rows = session.execute(
            select(Ticket.version, Ticket.updated_at, Ticket.status)
            .where(Ticket.id.in_(ticket_ids))
            .order_by(Ticket.id)
        )
        return [(version, updated, status) for version, updated, status in rows]


def test_changed_tickets_are_written_with_one_statement_and_their_versions_move_on(
    runtime: Runtime,
) -> None:
    """Three tickets with a new `updated_at` and two of them with a first response too: two
    statements (one a set of changed columns), three rows, each version checked and moved
    on in the database and in memory; a second flush finds nothing left to write."""
    made = _tickets(runtime, 3)
    with runtime.db.transaction() as session:
        loaded = _loaded(session, made)
        seen, stop = _updates(session)
        try:
            for n, ticket in enumerate(loaded):
                ticket.updated_at = _LATER + timedelta(minutes=n)
                if n:
                    ticket.first_response_at = _LATER
            session.flush()
            assert sorted(seen) == [1, 2]
            assert [t.version for t in loaded] == [2, 2, 2]
            assert not session.dirty
            session.flush()
            assert sorted(seen) == [1, 2]
        finally:
            stop()
    assert _stored(runtime, made) == [(2, _LATER + timedelta(minutes=n), "open") for n in range(3)]
    with runtime.db.transaction(write=False) as session:
        responded = session.scalars(
            select(Ticket.first_response_at).where(Ticket.id.in_(made)).order_by(Ticket.id)
        ).all()
    assert responded == [None, _LATER, _LATER]


def test_a_ticket_another_transaction_moved_on_is_refused(runtime: Runtime) -> None:
    """The other writer's version wins: the flush raises `StaleDataError` (the batch then
    runs again, `test_bulk.py`), and the rolled-back transaction writes nothing."""
    made = _tickets(runtime, 2)
    with runtime.db.transaction() as session:
        loaded = _loaded(session, made)
        session.execute(
            text("UPDATE tticket_tickets SET version = version + 1 WHERE id = :id"),
            {"id": made[1]},
        )
        for ticket in loaded:
            ticket.updated_at = _LATER
        with pytest.raises(StaleDataError, match="expected to update 2 row"):
            session.flush()
        session.rollback()
    assert [version for version, _at, _status in _stored(runtime, made)] == [1, 1]


def test_other_changes_are_left_to_the_orm(runtime: Runtime) -> None:
    """A ticket whose subject changed too is written by the ORM, one UPDATE of its own,
    with every change; the one with only listed changes still goes set-wise."""
    made = _tickets(runtime, 3)
    with runtime.db.transaction() as session:
        loaded = _loaded(session, made)
        seen, stop = _updates(session)
        try:
            for ticket in loaded:
                ticket.updated_at = _LATER
            loaded[0].subject = "Renamed"
            session.flush()
        finally:
            stop()
        assert sorted(seen) == [1, 2]
    with runtime.db.transaction(write=False) as session:
        rows = session.execute(
            select(Ticket.subject, Ticket.version, Ticket.updated_at).order_by(Ticket.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("Renamed", 2, _LATER),
        ("Versioned 1", 2, _LATER),
        ("Versioned 2", 2, _LATER),
    ]


def test_a_flush_inside_a_savepoint_is_left_to_the_orm(runtime: Runtime) -> None:
    """A savepoint rolled back expires what the ORM wrote inside it: the ticket reads its
    old values again, and a later write of it is not refused."""
    (made,) = _tickets(runtime, 1)
    with runtime.db.transaction() as session:
        (ticket,) = _loaded(session, [made])
        before = ticket.updated_at
        savepoint = session.begin_nested()
        ticket.updated_at = _LATER
        session.flush()
        savepoint.rollback()
        assert (ticket.version, ticket.updated_at) == (1, before)
        ticket.status = "in_progress"
        session.flush()
        assert ticket.version == 2
    assert _stored(runtime, [made]) == [(2, before, "in_progress")]


def test_only_plain_columns_can_be_named() -> None:
    with pytest.raises(ValueError, match="'version' is not a plain column"):
        versioned.enable(Session(), Ticket, ["version"])
    with pytest.raises(ValueError, match="'tag_rows' is not a plain column"):
        versioned.enable(Session(), Ticket, ["tag_rows"])


def test_a_column_set_to_the_value_it_had_is_no_change(runtime: Runtime) -> None:
    """As for the ORM: a ticket whose columns were set to what they held is not written and
    keeps its version; one with a real change beside a same-value one is written once."""
    made = _tickets(runtime, 2)
    with runtime.db.transaction() as session:
        same, moved = _loaded(session, made)
        seen, stop = _updates(session)
        try:
            same.updated_at = same.updated_at
            same.status = "open"
            moved.status = "open"
            moved.updated_at = _LATER
            session.flush()
        finally:
            stop()
        assert seen == [1]
        assert (same.version, moved.version) == (1, 2)
        assert not session.dirty
    assert [version for version, _at, _status in _stored(runtime, made)] == [1, 2]
