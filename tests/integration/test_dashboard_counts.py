"""The dashboard's active tickets per priority (one grouped count) equal the ticket list
filtered by each priority, on SQLite and PostgreSQL: merged, deleted and closed tickets left
out, every priority counted, none missing."""

from __future__ import annotations

from hubdesk.db.paging import Total
from hubdesk.db.uow import Database
from hubdesk.tickets import queries
from hubdesk.tickets import service as tickets
from hubdesk.tickets.states import PRIORITIES
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.ui.dashboard import ACTIVE, active_by_priority
from tests.support import factories


def test_active_by_priority_equals_the_filtered_lists(db: Database) -> None:
    with db.transaction() as session:
        made = []
        for i in range(14):
            ticket = factories.ticket(session, f"T{i}", priority=PRIORITIES[i % 3])
            made.append(ticket)
        tickets.update_ticket(session, SYSTEM, made[0], {"status": "resolved"})
        tickets.update_ticket(session, SYSTEM, made[1], {"status": "waiting_customer"})
        tickets.delete_ticket(session, SYSTEM, made[2])
        tickets.merge_ticket(session, SYSTEM, made[3], made[4])
        counted = active_by_priority(session, SYSTEM)
        for name in PRIORITIES:
            listed = queries.list_tickets(
                session,
                SYSTEM,
                queries.TicketFilter(status=ACTIVE, priority=(name,), include_merged=False),
                limit=1,
                offset=0,
            ).total
            assert counted.get(name, Total(0)) == Total(listed), name
        # resolved, deleted, merged away (waiting is active)
        assert sum(c.total for c in counted.values()) == 14 - 3
        assert PRIORITIES[3] not in counted
