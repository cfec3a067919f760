"""Ticket numbers `TKT-YYYYMMDD-NNN`: unique under concurrent processes, past 999 a day, and
dated in HUBDESK_TIMEZONE."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hubdesk.db.uow import Database
from tests.support import factories
from tests.support.api import Api
from tests.support.processes import run_together
from tests.support.workers import create_tickets

PROCESSES = 4
TICKETS_EACH = 60
NOW = datetime(2025, 12, 15, 10, 0, tzinfo=UTC)


def test_concurrent_processes_get_unique_consecutive_numbers(database_url: str) -> None:
    """Four processes creating 60 tickets each at once on one database get 240 distinct
    numbers forming exactly 001..240 for the day, with no lock or integrity error."""
    results = run_together(
        create_tickets,
        [(database_url, "Europe/Copenhagen", TICKETS_EACH, NOW.isoformat())] * PROCESSES,
    )
    errors = [error for result in results for error in result["errors"]]
    assert errors == []
    numbers = [number for result in results for number in result["numbers"]]
    duplicates = [number for number, seen in Counter(numbers).items() if seen > 1]
    assert duplicates == []
    expected = {f"TKT-20251215-{n:03d}" for n in range(1, PROCESSES * TICKETS_EACH + 1)}
    assert set(numbers) == expected
    db = Database.connect(database_url)
    try:
        with db.engine.connect() as connection:
            stored = connection.exec_driver_sql(
                "SELECT COUNT(DISTINCT ticket_number) FROM tticket_tickets"
            ).scalar_one()
    finally:
        db.dispose()
    assert stored == PROCESSES * TICKETS_EACH


def test_numbers_grow_past_999_in_one_day(db: Database) -> None:
    """After 999 tickets in a day the sequence goes on with four digits, never reusing one."""
    with db.transaction() as session:
        session.execute(
            sa.text("INSERT INTO tticket_number_counters (day, last_value) VALUES (:d, 998)"),
            {"d": "20251215"},
        )
    with db.transaction() as session:
        numbers = [factories.ticket(session, now=NOW).ticket_number for _ in range(3)]
    assert numbers == ["TKT-20251215-999", "TKT-20251215-1000", "TKT-20251215-1001"]


def test_ticket_over_999_is_found_by_its_number(api: Api) -> None:
    """A four-digit ticket number is a valid number for lookups through the API."""
    with api.runtime.db.transaction() as session:
        session.execute(
            sa.text("INSERT INTO tticket_number_counters (day, last_value) VALUES (:d, 999)"),
            {"d": "20251215"},
        )
        ticket = factories.ticket(session, now=NOW)
        number, ticket_id = ticket.ticket_number, ticket.id
    assert number == "TKT-20251215-1000"
    found = api.ok(api.get(f"/api/v1/tickets/by-number/{number}"))
    assert found["id"] == ticket_id


def test_number_date_is_the_creation_day_in_the_configured_zone(db: Database) -> None:
    """The date in the number is the local date of creation: 23:30 UTC on 15 December is
    already the 16th in Copenhagen, while 03:00 UTC on the 16th is still the 15th in New
    York. Each day's sequence starts at 001."""
    late_utc = datetime(2025, 12, 15, 23, 30, tzinfo=UTC)
    early_utc = datetime(2025, 12, 16, 3, 0, tzinfo=UTC)
    with db.transaction() as session:
        copenhagen = factories.ticket(session, now=late_utc).ticket_number
        new_york = factories.tickets_in_zone(session, ZoneInfo("America/New_York"), early_utc)
        same_instant_utc = factories.tickets_in_zone(session, ZoneInfo("UTC"), late_utc)
    assert copenhagen == "TKT-20251216-001"
    assert new_york == "TKT-20251215-001"
    assert same_instant_utc == "TKT-20251215-002"


def test_api_numbers_use_today_in_hubdesk_timezone(api: Api) -> None:
    """A ticket created through the API is numbered with today's date in HUBDESK_TIMEZONE,
    zero-padded to three digits."""
    tz = api.runtime.settings.tz
    before = datetime.now(tz).strftime("%Y%m%d")
    created = api.ok(api.post("/api/v1/tickets", json={"subject": "Hello"}), 201)
    after = datetime.now(tz).strftime("%Y%m%d")
    match = re.fullmatch(r"TKT-(\d{8})-(\d{3,})", created["ticket_number"])
    assert match is not None
    assert match.group(1) in {before, after}
    assert match.group(2) == "001"
