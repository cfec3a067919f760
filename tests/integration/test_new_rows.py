"""`hubdesk.db.rows.new` builds the same rows as the mapped class's constructor, on both
databases: the pipeline's email log, comment, ticket, SLA clock and participant rows,
each written once built either way and read back column by column (defaults filled in by
the INSERT included); a relationship set afterwards still cascades; a name that is no
column is refused as the constructor refuses it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from hubdesk.db import rows
from hubdesk.runtime import Runtime
from hubdesk.sla.models import SlaClock
from hubdesk.tickets.models import Comment, EmailLog, Ticket, TicketParticipant, TicketTag

_AT = datetime(2026, 12, 5, 21, 30, 15, 123456, tzinfo=UTC)


def _columns(obj: object, skip: set[str]) -> dict[str, Any]:
    mapper = inspect(type(obj))
    return {p.key: getattr(obj, p.key) for p in mapper.column_attrs if p.key not in skip}


def _both(
    session: Session, model: type, skip: set[str], differ: dict[str, Any], **values: Any
) -> None:
    """One row by the constructor and one by `rows.new` (with `differ` on top, for a
    unique column), compared but for `skip`: before the INSERT and as stored."""
    by_constructor = model(**values)
    by_new: Any = rows.new(model, **{**values, **differ})
    assert _columns(by_new, skip) == _columns(by_constructor, skip)
    session.add_all([by_constructor, by_new])
    session.flush()
    session.expire_all()
    assert _columns(by_new, skip) == _columns(by_constructor, skip)


def _ticket(session: Session, number: str) -> int:
    ticket = Ticket(ticket_number=number, subject="Printer", created_at=_AT, updated_at=_AT)
    session.add(ticket)
    session.flush()
    return ticket.id


def test_each_row_is_written_as_the_constructor_writes_it(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        # defaults the INSERT fills in: status, priority, version, the computed rank
        _both(
            session,
            Ticket,
            {"id", "ticket_number"},
            {"ticket_number": "TKT-20261205-002"},
            ticket_number="TKT-20261205-001",
            subject="Printer",
            customer_id=None,
            custom_fields={"plan": "gold"},
            source="email",
            created_at=_AT,
            updated_at=_AT,
        )
        ticket_id = _ticket(session, "TKT-20261205-003")
        _both(
            session,
            EmailLog,
            {"id"},
            {},
            ticket_id=ticket_id,
            email_message_id="<a@x>",
            email_subject="Printer",
            email_from="c@example.com",
            email_received_at=_AT,
            is_reply=False,
            thread_data={"message_id": "<a@x>"},
            email_to=["support@example.com"],
            email_cc=[],
            body_text="text",
            body_visible="text",
            body_html=None,
            flags={"spam": False},
            created_at=_AT,
        )
        _both(
            session,
            Comment,
            {"id"},
            {},
            ticket_id=ticket_id,
            body="thanks",
            is_internal=False,
            source="email",
            created_at=_AT,
        )
        _both(
            session,
            SlaClock,
            {"ticket_id"},
            {"ticket_id": _ticket(session, "TKT-20261205-005")},
            ticket_id=_ticket(session, "TKT-20261205-004"),
            started_at=_AT,
            resolution_started_at=_AT,
            pauses=[],
            missed=[],
            last_status="open",
            last_priority="normal",
            paused=False,
            updated_at=_AT,
        )
        _both(
            session,
            TicketParticipant,
            {"email", "created_at"},
            {"email": "d@example.com"},
            ticket_id=ticket_id,
            email="c@example.com",
        )


def test_a_relationship_set_afterwards_still_cascades(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        ticket = rows.new(Ticket, ticket_number="TKT-20261205-009", subject="Tags")
        ticket.tag_rows = [TicketTag(tag="vip", position=0)]
        session.add(ticket)
        session.flush()
        tags = session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id))
        assert list(tags) == ["vip"]


def test_a_name_that_is_no_column_is_refused() -> None:
    with pytest.raises(TypeError, match="Ticket has no column attribute tag_rows, typo"):
        rows.new(Ticket, subject="x", typo=1, tag_rows=[])


def test_a_new_ticket_without_tags_knows_it_and_takes_tags_later(runtime: Runtime) -> None:
    """`create_ticket` marks a ticket without tags as having none (no collection events):
    its tags read as empty without a statement, and tags set later are written."""
    from sqlalchemy import event

    from hubdesk.tickets import service as tickets
    from hubdesk.users.permissions import SYSTEM

    with runtime.db.transaction() as session:
        ticket = tickets.create_ticket(
            session, SYSTEM, tickets.NewTicket(subject="Untagged"), tz=UTC
        )
        session.flush()
        statements: list[str] = []
        engine = session.get_bind()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert ticket.tags == []
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert statements == []
        tickets.update_ticket(session, SYSTEM, ticket, {"tags": ["vip"]})
    with runtime.db.transaction(write=False) as session:
        stored = session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id))
        assert list(stored) == ["vip"]


def test_add_without_related_objects_skips_the_cascade_and_pends_the_row(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rows.add` of an object holding no related object places it as `Session.add` does
    (pending, its events fired, written by the next flush) without walking the cascade."""
    from sqlalchemy import event
    from sqlalchemy.orm import Mapper

    walked: list[str] = []
    cascade = Mapper.cascade_iterator

    def watched(self: Mapper[Any], *args: Any, **kwargs: Any) -> Any:
        walked.append(self.class_.__name__)
        return cascade(self, *args, **kwargs)

    monkeypatch.setattr(Mapper, "cascade_iterator", watched)
    with runtime.db.transaction() as session:
        pending: list[object] = []
        event.listen(session, "transient_to_pending", lambda _s, obj: pending.append(obj))
        ticket = rows.new(Ticket, ticket_number="TKT-20261206-001", subject="Plain")
        rows.add(session, ticket)
        assert ticket in session.new
        assert pending == [ticket]
        session.flush()
        comment = rows.new(Comment, ticket_id=ticket.id, body="hi", source="email")
        rows.add(session, comment)
        session.flush()
        assert walked == []
        assert session.scalar(select(Comment.body).where(Comment.ticket_id == ticket.id)) == "hi"


def test_add_with_a_related_object_cascades_to_it(runtime: Runtime) -> None:
    """An object that holds a related object is added with the cascade: the related row
    is written too (skipping the cascade there would leave it out)."""
    with runtime.db.transaction() as session:
        ticket = rows.new(Ticket, ticket_number="TKT-20261206-002", subject="Tagged")
        ticket.tag_rows = [TicketTag(tag="vip", position=0)]
        rows.add(session, ticket)
        assert len(session.new) == 2
        session.flush()
        tags = session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id))
        assert list(tags) == ["vip"]
        comment = rows.new(Comment, body="on the ticket", source="email")
        comment.ticket = rows.new(Ticket, ticket_number="TKT-20261206-003", subject="Via")
        rows.add(session, comment)
        session.flush()
        assert comment.ticket_id is not None
        assert comment.ticket.id == comment.ticket_id
