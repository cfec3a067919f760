"""The reporting views answer correct numbers to plain SQL on both databases."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hubdesk.db.uow import Database
from hubdesk.prepaid import service as prepaid
from hubdesk.tickets import service as tickets
from hubdesk.users.permissions import SYSTEM
from tests.support import factories


def _rows(db: Database, sql: str) -> list[dict[str, Any]]:
    with db.engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.text(sql)).mappings()]


def _populate(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        acme = factories.customer(session, "Acme")
        beta = factories.customer(session, "Beta")
        a1 = factories.ticket(session, customer_id=acme.id)
        factories.ticket(session, customer_id=acme.id)
        factories.ticket(session, customer_id=acme.id, priority="high", status="in_progress")
        done = factories.ticket(session, customer_id=acme.id)
        tickets.change_status(done, "resolved", done.created_at)
        gone = factories.ticket(session, customer_id=acme.id)
        tickets.delete_ticket(session, SYSTEM, gone)
        b1 = factories.ticket(
            session, customer_id=beta.id, priority="low", status="waiting_internal"
        )
        factories.ticket(session, "No customer")
        card = factories.card(session, acme.id, "2")
        cancelled = factories.card(session, acme.id, "1")
        prepaid.cancel_card(session, SYSTEM, cancelled)
        factories.worklog(session, a1, 30, billing="prepaid", prepaid_card_id=card.id)
        factories.worklog(session, a1, 15, billable=False)
        factories.worklog(session, done, 10, billing="invoice", invoice_reference="F-9")
        factories.worklog(session, b1, 20)
        return {"acme": acme.id, "beta": beta.id, "card": card.id, "cancelled": cancelled.id}


def test_open_tickets_by_customer(db: Database) -> None:
    """Open tickets counted per customer and priority; resolved and deleted tickets are left
    out, and tickets without a customer form their own row."""
    ids = _populate(db)
    rows = _rows(
        db,
        "SELECT customer_id, customer_name, priority, open_tickets "
        "FROM tticket_v_open_tickets_by_customer",
    )
    found = {
        (r["customer_id"], r["customer_name"], r["priority"], int(r["open_tickets"])) for r in rows
    }
    assert found == {
        (ids["acme"], "Acme", "normal", 2),
        (ids["acme"], "Acme", "high", 1),
        (ids["beta"], "Beta", "low", 1),
        (None, None, "normal", 1),
    }


def test_prepaid_balances(db: Database) -> None:
    """Each card's minutes used and remaining, with its status and customer."""
    ids = _populate(db)
    rows = _rows(
        db,
        "SELECT card_id, customer_name, status, minutes_used, minutes_remaining "
        "FROM tticket_v_prepaid_balances ORDER BY card_id",
    )
    assert [
        (
            r["card_id"],
            r["customer_name"],
            r["status"],
            int(r["minutes_used"]),
            int(r["minutes_remaining"]),
        )
        for r in rows
    ] == [
        (ids["card"], "Acme", "active", 30, 90),
        (ids["cancelled"], "Acme", "cancelled", 0, 60),
    ]


def test_worklog_totals_by_customer(db: Database) -> None:
    """Total, billable and prepaid minutes per customer across all their tickets."""
    ids = _populate(db)
    rows = _rows(
        db,
        "SELECT customer_id, customer_name, total_minutes, billable_minutes, prepaid_minutes "
        "FROM tticket_v_worklog_totals_by_customer",
    )
    found = {
        r["customer_id"]: (
            r["customer_name"],
            int(r["total_minutes"]),
            int(r["billable_minutes"]),
            int(r["prepaid_minutes"]),
        )
        for r in rows
    }
    assert found == {ids["acme"]: ("Acme", 55, 40, 30), ids["beta"]: ("Beta", 20, 20, 0)}
