"""Every write of a ticket row moves its version on, and a write based on an older version
never lands: through the service it is `StaleTicket` (409), elsewhere (the intake pipeline)
a transient error that is run again (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm.exc import StaleDataError

from hubdesk.db.uow import is_transient
from hubdesk.errors import DatabaseUnavailable
from hubdesk.runtime import Runtime
from hubdesk.tickets import service as tickets
from hubdesk.tickets.concurrency import StaleTicket
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from tests.support import factories

_BUMP = text("UPDATE tticket_tickets SET version = version + 1 WHERE id = :id")


def _ticket(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return factories.ticket(session, "Versioned").id


def test_each_write_bumps_the_version(runtime: Runtime) -> None:
    ticket_id = _ticket(runtime)
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.version == 1
        tickets.update_ticket(session, SYSTEM, ticket, {"tags": ["a"]})
        tickets.update_ticket(session, SYSTEM, ticket, {"priority": "high"})
        assert ticket.version == 3


def test_a_write_from_an_older_version_is_refused(runtime: Runtime) -> None:
    """Someone else's UPDATE lands between our read and our write: the service says so."""
    ticket_id = _ticket(runtime)

    def write_after_someone_else() -> None:
        with runtime.db.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            session.execute(_BUMP, {"id": ticket_id})
            tickets.update_ticket(session, SYSTEM, ticket, {"priority": "high"})

    with pytest.raises(StaleTicket):
        write_after_someone_else()
    with runtime.db.transaction(write=False) as session:
        stored = session.get(Ticket, ticket_id)
        assert stored is not None
        assert stored.priority == "normal"


def test_a_raw_stale_flush_is_transient(runtime: Runtime) -> None:
    """Outside the service (the pipeline writing status or updated_at) the same collision is
    a transient error (DatabaseUnavailable), so the message is run again rather than marked
    failed."""
    ticket_id = _ticket(runtime)

    def flush_after_someone_else() -> None:
        with runtime.db.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            session.execute(_BUMP, {"id": ticket_id})
            ticket.priority = "low"
            session.flush()

    with pytest.raises(DatabaseUnavailable) as raised:
        flush_after_someone_else()
    assert isinstance(raised.value.__cause__, StaleDataError)
    assert is_transient(raised.value.__cause__)
