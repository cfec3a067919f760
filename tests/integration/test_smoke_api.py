"""A first pass through the API on both databases."""

from __future__ import annotations

from tests.support.api import Api


def test_create_and_read_ticket(api: Api) -> None:
    """A created ticket gets a TKT number, appears in the list and can be read by number."""
    created = api.ok(api.post("/api/v1/tickets", json={"subject": "Printer on fire"}), 201)
    assert created["ticket_number"].startswith("TKT-")
    listed = api.ok(api.get("/api/v1/tickets"))
    assert listed["total"] == 1
    by_number = api.ok(api.get(f"/api/v1/tickets/by-number/{created['ticket_number']}"))
    assert by_number["id"] == created["id"]
