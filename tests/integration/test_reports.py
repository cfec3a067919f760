"""Reports on known data (tests/support/reports.py), on SQLite and PostgreSQL: exact counts,
business-hour medians and p90s, SLA attainment, hours; CSV neutralised; bad parameters."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.support import reports
from tests.support.api import Api

PERIOD = "from=2026-03-02&to=2026-03-06"


@pytest.fixture
def world(api: Api) -> reports.World:
    return reports.build(api.runtime)


def _get(api: Api, name: str, query: str = PERIOD) -> Any:
    return api.ok(api.get(f"/api/v1/reports/{name}?{query}"))


def test_volume_backlog_and_response_times(api: Api, world: reports.World) -> None:
    body = _get(api, "volume")
    assert body["interval"] == "day"
    assert body["columns"] == ["period", "created", "resolved", "backlog"]
    assert [(r["period"], r["created"], r["resolved"], r["backlog"]) for r in body["rows"]] == [
        ("2026-03-02", 2, 0, 3),
        ("2026-03-03", 1, 1, 3),
        ("2026-03-04", 1, 1, 3),
        ("2026-03-05", 0, 1, 2),
        ("2026-03-06", 0, 0, 2),
    ]
    assert body["totals"] == {"period": "total", "created": 4, "resolved": 3, "backlog": 2}
    weekly = _get(api, "volume", PERIOD + "&interval=week")
    assert [(r["period"], r["created"], r["resolved"]) for r in weekly["rows"]] == [
        ("2026-03-02", 4, 3)
    ]
    high = _get(api, "volume", PERIOD + "&priority=high")
    assert high["totals"]["created"] == 1
    acme = _get(api, "volume", PERIOD + f"&customer_id={world.ids['acme']}")
    assert (acme["totals"]["created"], acme["totals"]["resolved"]) == (1, 1)
    _response_times(api)


def _response_times(api: Api) -> None:
    """First responses 2h (24x7), 2h and 1h (office hours, across a night), 4h (no policy:
    wall clock): median 2, p90 3.4. Resolutions 24h, 11h, 30h: median 24, p90 28.8."""
    body = _get(api, "response-times")
    totals = body["totals"]
    assert totals["first_response_count"] == 4
    assert totals["first_response_median_hours"] == 2.0
    assert totals["first_response_p90_hours"] == 3.4
    assert totals["resolution_count"] == 3
    assert totals["resolution_median_hours"] == 24.0
    assert totals["resolution_p90_hours"] == 28.8
    first_day = body["rows"][0]
    assert first_day["period"] == "2026-03-02"
    assert first_day["first_response_count"] == 2
    assert first_day["resolution_median_hours"] == 17.5
    assert body["rows"][4]["first_response_median_hours"] is None


def test_sla_customers_agents_prepaid_and_csv(api: Api, world: reports.World) -> None:
    """A (Always) met; B (Standard) met; C (Standard) is past its resolution due time."""
    body = _get(api, "sla")
    got = {
        (r["dimension"], r["name"]): (
            r["tickets"],
            r["met"],
            r["breached"],
            r["attainment_percent"],
        )
        for r in body["rows"]
    }
    assert got == {
        ("policy", "Always"): (1, 1, 0, 100.0),
        ("policy", "Standard"): (2, 1, 1, 50.0),
        ("customer", "Acme"): (1, 1, 0, 100.0),
        ("customer", "=Beta"): (2, 1, 1, 50.0),
        ("agent", "anna@agents.example.com"): (2, 2, 0, 100.0),
        ("agent", "bo@agents.example.com"): (1, 0, 1, 0.0),
        ("team", None): (3, 2, 1, 66.7),
    }
    assert body["totals"]["attainment_percent"] == 66.7
    _customers_agents_and_prepaid(api)
    _csv_download_is_neutralised(api)


def _customers_agents_and_prepaid(api: Api) -> None:
    customers = _get(api, "customers")
    assert [
        (r["customer"], r["created"], r["resolved"], r["worklog_hours"], r["prepaid_hours"])
        for r in customers["rows"]
    ] == [("=Beta", 2, 1, 0.5, 0.5), ("Acme", 1, 1, 1.5, 0.0), (None, 1, 1, 0.0, 0.0)]
    agents = _get(api, "agents")
    by_agent = {r["agent"]: r for r in agents["rows"]}
    anna = by_agent["anna@agents.example.com"]
    assert (anna["assigned"], anna["resolved"], anna["worklog_hours"]) == (2, 2, 2.0)
    assert anna["first_response_median_hours"] == 2.0
    assert anna["resolution_median_hours"] == 17.5
    bo = by_agent["bo@agents.example.com"]
    assert (bo["assigned"], bo["resolved"], bo["worklog_hours"]) == (1, 0, 0.0)
    card = {r["customer"]: r for r in _get(api, "prepaid")["rows"]}
    assert (card["=Beta"]["hours_bought"], card["=Beta"]["used_in_period_hours"]) == (10.0, 0.5)
    assert card["=Beta"]["remaining_hours"] == 9.5
    assert (card["Acme"]["used_total_hours"], card["Acme"]["remaining_hours"]) == (0.0, 5.0)


def _csv_download_is_neutralised(api: Api) -> None:
    response = api.get(f"/api/v1/reports/customers?{PERIOD}&format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert "hubdesk-customers-2026-03-02-2026-03-06.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["customer_id", "customer", "created"]
    assert rows[1][1:3] == ["'=Beta", "2"]
    assert rows[-1][0] == "total"


BAD: list[tuple[str, str]] = [
    ("from=2026-13-01&to=2026-03-06", "YYYY-MM-DD"),
    ("from=yesterday", "YYYY-MM-DD"),
    ("from=2026-03-06&to=2026-03-01", "after"),
    ("from=2024-01-01&to=2026-03-01", "at most 366 days"),
    ("interval=month", "interval"),
    ("priority=urgent", "priority"),
    ("format=xlsx", "format"),
]


def test_bad_parameters_unknown_reports_and_permission(api: Api) -> None:
    """422 saying what to fix for each bad parameter; 404 naming the reports for an unknown
    one; 403 for an agent (reports.view is the admins')."""
    for query, words in BAD:
        response = api.get(f"/api/v1/reports/volume?{query}")
        assert response.status_code == 422, (query, response.text)
        assert words in response.json()["detail"], query
    response = api.get("/api/v1/reports/nope?" + PERIOD)
    assert response.status_code == 404
    assert "volume" in response.json()["detail"]
    assert api.get("/api/v1/reports/volume", "agents").status_code == 403
