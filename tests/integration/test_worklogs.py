"""Worklogs: positive minutes, billing rules, and totals per ticket and per customer."""

from __future__ import annotations

from typing import Any

from tests.support import factories
from tests.support.api import Api


def _setup(api: Api) -> dict[str, int]:
    with api.runtime.db.transaction() as session:
        acme = factories.customer(session, "Acme")
        other = factories.customer(session, "Other")
        return {
            "acme": acme.id,
            "other": other.id,
            "ticket": factories.ticket(session, customer_id=acme.id).id,
            "second": factories.ticket(session, "Second", customer_id=acme.id).id,
            "foreign": factories.ticket(session, "Foreign", customer_id=other.id).id,
            "orphan": factories.ticket(session, "No customer").id,
            "card": factories.card(session, acme.id, "10").id,
            "other_card": factories.card(session, other.id, "10").id,
        }


def _log(api: Api, ticket_id: int, **body: Any) -> Any:
    return api.post(f"/api/v1/tickets/{ticket_id}/worklogs", "agents", json=body)


def test_worklog_rules_answer_422_saying_what_to_fix(api: Api) -> None:
    """Minutes must be positive and at most a day; invoice billing needs a reference; prepaid
    billing needs a card, of the ticket's own customer; a card id without prepaid billing is
    refused. Nothing is stored for a refused worklog."""
    ids = _setup(api)
    cases: list[tuple[int, dict[str, Any], str]] = [
        (ids["ticket"], {"minutes": 0}, "minutes"),
        (ids["ticket"], {"minutes": -5}, "minutes"),
        (ids["ticket"], {"minutes": 24 * 60 + 1}, "minutes"),
        (ids["ticket"], {"minutes": 5, "billing": "invoice"}, "invoice_reference"),
        (
            ids["ticket"],
            {"minutes": 5, "billing": "invoice", "invoice_reference": "  "},
            "invoice_reference",
        ),
        (ids["ticket"], {"minutes": 5, "billing": "prepaid"}, "prepaid_card_id"),
        (ids["ticket"], {"minutes": 5, "billing": "prepaid", "prepaid_card_id": 999_999}, "999999"),
        (
            ids["ticket"],
            {"minutes": 5, "billing": "prepaid", "prepaid_card_id": ids["other_card"]},
            "another customer",
        ),
        (
            ids["orphan"],
            {"minutes": 5, "billing": "prepaid", "prepaid_card_id": ids["card"]},
            "another customer",
        ),
        (ids["ticket"], {"minutes": 5, "prepaid_card_id": ids["card"]}, "prepaid"),
        (ids["ticket"], {"minutes": 5, "billing": "cash"}, "billing"),
        (ids["ticket"], {"minutes": 5, "hours": 1}, "hours"),
    ]
    for ticket_id, body, needle in cases:
        response = _log(api, ticket_id, **body)
        assert response.status_code == 422, body
        assert needle in response.json()["detail"], (body, response.json())
    for ticket_id in (ids["ticket"], ids["orphan"]):
        assert api.ok(api.get(f"/api/v1/tickets/{ticket_id}/worklogs"))["total"] == 0
    card = api.ok(api.get(f"/api/v1/prepaid-cards/{ids['card']}"))
    assert card["minutes_used"] == 0


def test_worklog_shape_and_defaults(api: Api) -> None:
    """A worklog answers 201 with its fields; work_date defaults to today in the configured
    zone and the author is the caller; the list shows the ticket's worklogs."""
    ids = _setup(api)
    created = _log(api, ids["ticket"], minutes=25, description="Fixed\r\nit")
    assert created.status_code == 201
    worklog = created.json()
    assert (worklog["minutes"], worklog["billing"], worklog["billable"]) == (25, "none", True)
    assert worklog["description"] == "Fixed\nit"
    assert worklog["user_id"] == api.user_ids["agents"]
    assert worklog["work_date"] == api.runtime.today().isoformat()
    dated = api.ok(_log(api, ids["ticket"], minutes=5, work_date="2025-01-31"), 201)
    listed = api.ok(api.get(f"/api/v1/tickets/{ids['ticket']}/worklogs", "readonly"))
    assert [w["id"] for w in listed["items"]] == [dated["id"], worklog["id"]]
    assert (
        api.delete(f"/api/v1/tickets/{ids['second']}/worklogs/{worklog['id']}").status_code == 404
    )


def test_totals_per_ticket_and_per_customer(api: Api) -> None:
    """Totals add up minutes, billable minutes and prepaid minutes with a count, per ticket
    and across all of a customer's tickets (deleted tickets left out)."""
    ids = _setup(api)
    api.ok(_log(api, ids["ticket"], minutes=30), 201)
    api.ok(_log(api, ids["ticket"], minutes=15, billable=False), 201)
    api.ok(
        _log(api, ids["ticket"], minutes=20, billing="prepaid", prepaid_card_id=ids["card"]), 201
    )
    api.ok(_log(api, ids["second"], minutes=10, billing="invoice", invoice_reference="F-1"), 201)
    api.ok(_log(api, ids["foreign"], minutes=99), 201)
    ticket = api.ok(api.get(f"/api/v1/tickets/{ids['ticket']}/worklogs/totals", "readonly"))
    assert ticket == {
        "total_minutes": 65,
        "billable_minutes": 50,
        "prepaid_minutes": 20,
        "count": 3,
    }
    customer = api.ok(api.get(f"/api/v1/customers/{ids['acme']}/worklogs/totals", "readonly"))
    assert customer == {
        "total_minutes": 75,
        "billable_minutes": 60,
        "prepaid_minutes": 20,
        "count": 4,
    }
    empty = api.ok(api.get(f"/api/v1/tickets/{ids['orphan']}/worklogs/totals"))
    assert empty == {"total_minutes": 0, "billable_minutes": 0, "prepaid_minutes": 0, "count": 0}
    api.ok(api.delete(f"/api/v1/tickets/{ids['second']}"), 204)
    customer = api.ok(api.get(f"/api/v1/customers/{ids['acme']}/worklogs/totals"))
    assert customer["total_minutes"] == 65
    assert api.get("/api/v1/customers/999999/worklogs/totals").status_code == 404
