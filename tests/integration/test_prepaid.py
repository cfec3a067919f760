"""Prepaid hour cards: the database itself refuses a negative balance; the service and API
refuse an overdraw with a clear message, also when two processes draw at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from hubdesk.db.uow import Database
from hubdesk.prepaid import service as prepaid
from hubdesk.users.permissions import SYSTEM
from tests.support import factories
from tests.support.api import Api
from tests.support.processes import run_together
from tests.support.workers import draw_prepaid_minutes

NOW = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)


def _card_on_ticket(db: Database, hours: str = "1") -> tuple[int, int]:
    """A customer with a card of `hours` and a ticket; returns (card id, ticket id)."""
    with db.transaction() as session:
        customer = factories.customer(session)
        card = factories.card(session, customer.id, hours)
        ticket = factories.ticket(session, customer_id=customer.id)
        return card.id, ticket.id


def _raw_drawdown(db: Database, card_id: int, ticket_id: int, minutes: int) -> None:
    """A worklog and its draw-down written with plain SQL, bypassing the service."""
    with db.transaction() as session:
        worklog_id = session.execute(
            sa.text(
                "INSERT INTO tticket_worklogs (ticket_id, work_date, minutes, description, "
                "billable, billing, created_at) VALUES (:t, '2025-12-15', :m, '', true, 'none', "
                ":now) RETURNING id"
            ),
            {"t": ticket_id, "m": minutes, "now": NOW},
        ).scalar_one()
        session.execute(
            sa.text(
                "INSERT INTO tticket_prepaid_drawdowns (card_id, worklog_id, minutes, created_at) "
                "VALUES (:c, :w, :m, :now)"
            ),
            {"c": card_id, "w": worklog_id, "m": minutes, "now": NOW},
        )


def _used(db: Database, card_id: int) -> tuple[int, int]:
    """(minutes_used on the card, sum of its draw-downs)."""
    with db.engine.connect() as connection:
        used = connection.execute(
            sa.text("SELECT minutes_used FROM tticket_prepaid_cards WHERE id = :c"), {"c": card_id}
        ).scalar_one()
        ledger = connection.execute(
            sa.text(
                "SELECT COALESCE(SUM(minutes), 0) FROM tticket_prepaid_drawdowns WHERE card_id = :c"
            ),
            {"c": card_id},
        ).scalar_one()
    return int(used), int(ledger)


def test_raw_overdraw_insert_is_refused_by_the_database(db: Database) -> None:
    """A plain SQL draw-down larger than the balance fails with an IntegrityError; a draw-down
    that fits is applied to the card by the trigger."""
    card_id, ticket_id = _card_on_ticket(db)
    _raw_drawdown(db, card_id, ticket_id, 45)
    assert _used(db, card_id) == (45, 45)
    with pytest.raises(IntegrityError):
        _raw_drawdown(db, card_id, ticket_id, 16)
    assert _used(db, card_id) == (45, 45)


def test_raw_update_of_minutes_used_must_match_the_ledger(db: Database) -> None:
    """Setting minutes_used by hand to anything but the sum of the draw-downs is refused."""
    card_id, ticket_id = _card_on_ticket(db)
    _raw_drawdown(db, card_id, ticket_id, 10)
    for value in (0, 9, 11):
        with pytest.raises(DBAPIError, match="minutes_used must equal"), db.transaction() as s:
            s.execute(
                sa.text("UPDATE tticket_prepaid_cards SET minutes_used = :v WHERE id = :c"),
                {"v": value, "c": card_id},
            )
    with db.transaction() as session:
        session.execute(
            sa.text("UPDATE tticket_prepaid_cards SET minutes_used = 10 WHERE id = :c"),
            {"c": card_id},
        )
    assert _used(db, card_id) == (10, 10)


def test_draw_downs_are_never_edited(db: Database) -> None:
    """An UPDATE of a draw-down row is refused: the ledger only grows or loses whole rows."""
    card_id, ticket_id = _card_on_ticket(db)
    _raw_drawdown(db, card_id, ticket_id, 10)
    with pytest.raises(DBAPIError, match="never edited"), db.transaction() as session:
        session.execute(sa.text("UPDATE tticket_prepaid_drawdowns SET minutes = 1"))
    assert _used(db, card_id) == (10, 10)


def test_draw_down_onto_a_cancelled_card_is_refused_by_the_database(db: Database) -> None:
    """Once a card is cancelled, even a plain SQL draw-down onto it fails."""
    card_id, ticket_id = _card_on_ticket(db)
    with db.transaction() as session:
        prepaid.cancel_card(session, SYSTEM, prepaid.get_card(session, SYSTEM, card_id))
    with pytest.raises(DBAPIError, match="not active"):
        _raw_drawdown(db, card_id, ticket_id, 5)
    assert _used(db, card_id) == (0, 0)


def _worklog(api: Api, ticket_id: int, minutes: int, card_id: int, role: str = "agents") -> Any:
    return api.post(
        f"/api/v1/tickets/{ticket_id}/worklogs",
        role,
        json={"minutes": minutes, "billing": "prepaid", "prepaid_card_id": card_id},
    )


def test_api_refuses_an_overdraw_with_a_clear_422(api: Api) -> None:
    """A prepaid worklog larger than what is left answers 422 naming the minutes left, and
    neither the worklog nor a draw-down is stored."""
    card_id, ticket_id = _card_on_ticket(api.runtime.db)
    api.ok(_worklog(api, ticket_id, 50, card_id), 201)
    refused = _worklog(api, ticket_id, 15, card_id)
    assert refused.status_code == 422
    assert "10 minutes left" in refused.json()["detail"]
    assert _used(api.runtime.db, card_id) == (50, 50)
    assert api.ok(api.get(f"/api/v1/tickets/{ticket_id}/worklogs"))["total"] == 1
    card = api.ok(api.get(f"/api/v1/prepaid-cards/{card_id}"))
    assert (card["minutes_used"], card["minutes_remaining"], card["status"]) == (50, 10, "active")


def test_deleting_a_worklog_returns_its_minutes_to_the_card(api: Api) -> None:
    """Using a card up depletes it; deleting the worklog gives the minutes back and the card
    is active again, with its draw-down gone from the balance."""
    card_id, ticket_id = _card_on_ticket(api.runtime.db)
    worklog = api.ok(_worklog(api, ticket_id, 60, card_id), 201)
    depleted = api.ok(api.get(f"/api/v1/prepaid-cards/{card_id}/balance"))
    assert (depleted["status"], depleted["minutes_remaining"]) == ("depleted", 0)
    assert [d["worklog_id"] for d in depleted["drawdowns"]] == [worklog["id"]]
    assert _worklog(api, ticket_id, 1, card_id).status_code == 422
    api.ok(api.delete(f"/api/v1/tickets/{ticket_id}/worklogs/{worklog['id']}", "agents"), 204)
    restored = api.ok(api.get(f"/api/v1/prepaid-cards/{card_id}/balance"))
    assert (restored["status"], restored["minutes_used"], restored["drawdowns"]) == (
        "active",
        0,
        [],
    )
    assert _used(api.runtime.db, card_id) == (0, 0)


def test_a_card_of_fractional_hours_can_be_used_to_the_last_minute(api: Api) -> None:
    """Every whole minute bought can be drawn, also when hours*60 is not exact in binary
    floating point (SQLite keeps NUMERIC as REAL: 2.05 * 60 = 122.99999999999999), and the
    balance view agrees."""
    for hours, minutes in (("2.05", 123), ("0.15", 9), ("16.65", 999)):
        card_id, ticket_id = _card_on_ticket(api.runtime.db, hours)
        with api.runtime.db.engine.connect() as connection:
            view = connection.execute(
                sa.text(
                    "SELECT minutes_remaining FROM tticket_v_prepaid_balances WHERE card_id = :c"
                ),
                {"c": card_id},
            ).scalar_one()
        assert view == minutes, hours
        api.ok(_worklog(api, ticket_id, minutes, card_id), 201)
        card = api.ok(api.get(f"/api/v1/prepaid-cards/{card_id}"))
        assert (card["minutes_total"], card["minutes_remaining"]) == (minutes, 0), hours
        assert _used(api.runtime.db, card_id) == (minutes, minutes), hours


def test_cancelled_and_expired_cards_refuse_worklogs(api: Api) -> None:
    """Cancelling a card (prepaid.manage) stops draw-downs with a 422 that says why; so does a
    card past its expiry date."""
    card_id, ticket_id = _card_on_ticket(api.runtime.db)
    cancelled = api.ok(api.post(f"/api/v1/prepaid-cards/{card_id}/cancel"))
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancelled_at"] is not None
    refused = _worklog(api, ticket_id, 5, card_id)
    assert refused.status_code == 422
    assert "cancelled" in refused.json()["detail"]
    customer_id = api.ok(api.get(f"/api/v1/tickets/{ticket_id}"))["customer_id"]
    old = api.ok(
        api.post(
            "/api/v1/prepaid-cards",
            json={
                "customer_id": customer_id,
                "hours_bought": "2",
                "bought_on": "2020-01-01",
                "expires_on": "2020-12-31",
            },
        ),
        201,
    )
    assert old["status"] == "expired"
    refused = _worklog(api, ticket_id, 5, old["id"])
    assert refused.status_code == 422
    assert "expired" in refused.json()["detail"]


def test_card_api_shows_balance_in_minutes_and_hours(api: Api) -> None:
    """A new card answers 201 with its balance; listing filters by customer."""
    with api.runtime.db.transaction() as session:
        customer_id = factories.customer(session).id
        other_id = factories.customer(session, "Other ApS").id
    card = api.ok(
        api.post(
            "/api/v1/prepaid-cards",
            json={"customer_id": customer_id, "hours_bought": "1.5", "price": "1500.00"},
        ),
        201,
    )
    assert (card["minutes_total"], card["minutes_used"], card["hours_remaining"]) == (90, 0, 1.5)
    assert (card["status"], card["currency"]) == ("active", "DKK")
    api.ok(
        api.post("/api/v1/prepaid-cards", json={"customer_id": other_id, "hours_bought": 1}), 201
    )
    listed = api.ok(
        api.get("/api/v1/prepaid-cards", "readonly", params={"customer_id": customer_id})
    )
    assert [c["id"] for c in listed["items"]] == [card["id"]]
    assert listed["total"] == 1
    for bad in (
        {"customer_id": customer_id, "hours_bought": "0.01"},
        {"customer_id": 999_999, "hours_bought": 1},
    ):
        assert api.post("/api/v1/prepaid-cards", json=bad).status_code == 422


def test_concurrent_draw_downs_from_two_processes_never_overdraw(database_url: str) -> None:
    """Two processes each trying ten 5-minute prepaid worklogs on a 1-hour card draw exactly
    60 minutes between them; the rest are refused with a clear message, never an error, and
    minutes_used equals the ledger."""
    db = Database.connect(database_url)
    try:
        card_id, ticket_id = _card_on_ticket(db)
        args = (database_url, ticket_id, card_id, 10, 5, factories.TODAY.isoformat())
        results = run_together(draw_prepaid_minutes, [args, args])
        assert [e for r in results for e in r["errors"]] == []
        drawn = sum(m for r in results for m in r["drawn"])
        assert drawn == 60
        refusals = [message for r in results for message in r["refused"]]
        assert len(refusals) == 8
        assert all("left" in m or "depleted" in m for m in refusals), refusals
        assert _used(db, card_id) == (60, 60)
    finally:
        db.dispose()
