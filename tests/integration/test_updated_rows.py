"""Changed rows written with one statement a set of changed columns (`hubdesk.db.updates`,
a bulk batch's replies and its ledger rows' fates), on both databases: a versioned row's
version is still checked and moved on, a row another transaction moved on is refused as
the ORM's own UPDATE refuses it, a row without a version is written by its key, and what
the statement cannot write (another column, a relationship, a flush inside a savepoint, a
key naming a row the ORM has yet to INSERT) is left to the ORM."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import hubdesk.intake.bulk  # noqa: F401 - orders a ledger row after its ticket (`ids.order_after`)
from hubdesk.db import ids, updates
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.support import factories

_COLUMNS = ("updated_at", "first_response_at", "status", "resolved_at", "closed_at")
_LATER = datetime(2031, 5, 6, 7, 8, 9, tzinfo=ZoneInfo("UTC"))


def _tickets(runtime: Runtime, count: int) -> list[int]:
    with runtime.db.transaction() as session:
        return [factories.ticket(session, f"Versioned {n}").id for n in range(count)]


def _updates(
    session: Session, table: str = "tticket_tickets"
) -> tuple[list[int], Callable[[], None]]:
    """The rows each UPDATE of `table` carried (an executemany counts its rows)."""
    seen: list[int] = []
    engine = session.get_bind()

    def count(
        _conn: object, _cursor: object, statement: str, params: object, _context: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(f"UPDATE {table.upper()}"):
            seen.append(len(params) if many else 1)  # type: ignore[arg-type]

    event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(engine, "before_cursor_execute", count)


def _loaded(session: Session, made: list[int]) -> list[Ticket]:
    """`made`'s tickets read in a session whose changed tickets are written set-wise."""
    updates.enable(session, Ticket, _COLUMNS)
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
    on in the database and in memory; the ORM's flush that follows finds no changed
    ticket left to visit, and a second flush nothing left to write."""
    made = _tickets(runtime, 3)
    with runtime.db.transaction() as session:
        loaded = _loaded(session, made)
        seen, stop = _updates(session)
        left_to_the_orm: list[object] = []
        event.listen(
            session, "before_flush", lambda s, _c, _i: left_to_the_orm.extend(s.dirty)
        )  # after `db.updates` wrote what it writes
        try:
            for n, ticket in enumerate(loaded):
                ticket.updated_at = _LATER + timedelta(minutes=n)
                if n:
                    ticket.first_response_at = _LATER
            session.flush()
            assert sorted(seen) == [1, 2]
            assert left_to_the_orm == []
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
        updates.enable(Session(), Ticket, ["version"])
    with pytest.raises(ValueError, match="'tag_rows' is not a plain column"):
        updates.enable(Session(), Ticket, ["tag_rows"])


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


_FATE = ("status", "reason", "ticket_id", "duplicate_of_id", "processed_at", "flags")


def _ledger(runtime: Runtime, count: int) -> list[int]:
    with runtime.db.transaction() as session:
        made = [(f"{n:064d}", 10, f"test#{n}") for n in range(count)]
        return [row.id for row in inbound.add_received_many(session, made)]


def test_rows_without_a_version_are_written_by_their_key(runtime: Runtime) -> None:
    """Three ledger rows given their fate: one UPDATE of three rows (by id alone), the
    values stored, nothing left for the ORM's flush."""
    rows = _ledger(runtime, 3)
    ticket = _tickets(runtime, 1)[0]
    with runtime.db.transaction() as session:
        updates.enable(session, InboundMessage, _FATE)
        loaded = [session.get(InboundMessage, row) for row in rows]
        seen, stop = _updates(session, "inbound_messages")
        try:
            for row in loaded:
                assert row is not None
                inbound.settle(row, "processed", "linked", ticket_id=ticket, flags={"n": row.id})
            session.flush()
        finally:
            stop()
        assert seen == [3]
        assert not session.dirty
    with runtime.db.transaction(write=False) as session:
        stored = session.execute(
            select(InboundMessage.status, InboundMessage.ticket_id, InboundMessage.flags)
            .where(InboundMessage.id.in_(rows))
            .order_by(InboundMessage.id)
        ).all()
    assert stored == [("processed", ticket, {"n": row}) for row in rows]


def test_a_row_naming_one_the_orm_has_yet_to_insert_is_left_to_the_orm(runtime: Runtime) -> None:
    """A ledger row settled on a new ticket that is still pending: the ORM writes both, the
    ticket first (a set-wise UPDATE before the flush would name a row not there yet)."""
    (row_id,) = _ledger(runtime, 1)
    with runtime.db.transaction() as session:
        ids.enable(session)
        updates.enable(session, InboundMessage, _FATE)
        row = session.get(InboundMessage, row_id)
        assert row is not None
        ticket = Ticket(ticket_number="TKT-20261206-901", subject="New", created_at=_LATER)
        ticket.updated_at = _LATER
        session.add(ticket)
        ids.assign(session, ticket)
        inbound.settle(row, "processed", "created", ticket_id=ticket.id)
        seen, stop = _updates(session, "inbound_messages")
        try:
            session.flush()
        finally:
            stop()
        assert seen == [1]
    with runtime.db.transaction(write=False) as session:
        assert (
            session.scalar(select(InboundMessage.ticket_id).where(InboundMessage.id == row_id))
            == ticket.id
        )
