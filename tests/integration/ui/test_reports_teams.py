"""The reports' team filter and SLA attainment per team, on the known world of
`tests/support/reports.py` with ticket A in team Support and B and C in team Sales (both
databases, through the API and the reports page)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import update

from hubdesk.tickets.models import Ticket
from tests.integration.ui.client import UiClient
from tests.support import factories, reports
from tests.support.api import Api

PERIOD = "from=2026-03-02&to=2026-03-06"


@pytest.fixture
def teams(api: Api) -> dict[str, int]:
    world = reports.build(api.runtime)
    with api.runtime.db.transaction() as session:
        support = factories.group(session, "Support").id
        sales = factories.group(session, "Sales").id
        # Straight to the rows: a PATCH would also move the SLA clocks the world fixes.
        session.execute(update(Ticket).where(Ticket.id == world.ids["A"]).values(team_id=support))
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_((world.ids["B"], world.ids["C"])))
            .values(team_id=sales)
        )
    return {"Support": support, "Sales": sales}


def _get(api: Api, name: str, query: str = PERIOD) -> Any:
    return api.ok(api.get(f"/api/v1/reports/{name}?{query}"))


def test_the_team_filter_counts_only_that_teams_tickets(api: Api, teams: dict[str, int]) -> None:
    sales = _get(api, "volume", f"{PERIOD}&team_id={teams['Sales']}")
    assert (sales["totals"]["created"], sales["totals"]["resolved"]) == (2, 1)
    assert sales["filters"]["team_id"] == teams["Sales"]
    support = _get(api, "volume", f"{PERIOD}&team_id={teams['Support']}")
    assert (support["totals"]["created"], support["totals"]["resolved"]) == (1, 1)
    by_policy = {
        r["name"]: r["tickets"]
        for r in _get(api, "sla", f"{PERIOD}&team_id={teams['Sales']}")["rows"]
        if r["dimension"] == "policy"
    }
    assert by_policy == {"Standard": 2}
    used = {
        team: {
            r["customer"]: r["used_in_period_hours"]
            for r in _get(api, "prepaid", f"{PERIOD}&team_id={teams[team]}")["rows"]
        }
        for team in teams
    }
    assert (used["Sales"]["=Beta"], used["Support"]["=Beta"]) == (0.5, 0.0)
    csv_text = api.get(f"/api/v1/reports/volume?{PERIOD}&team_id={teams['Sales']}&format=csv")
    assert csv_text.status_code == 200
    assert api.get(f"/api/v1/reports/volume?{PERIOD}&team_id=x").status_code == 422


def test_sla_attainment_per_team(api: Api, teams: dict[str, int]) -> None:
    rows = _get(api, "sla")["rows"]
    by_team = {
        r["name"]: (r["id"], r["tickets"], r["met"], r["attainment_percent"])
        for r in rows
        if r["dimension"] == "team"
    }
    assert by_team == {
        "Support": (teams["Support"], 1, 1, 100.0),
        "Sales": (teams["Sales"], 2, 1, 50.0),
    }


def test_the_reports_page_offers_the_team_filter(ui: UiClient, teams: dict[str, int]) -> None:
    ui.log_in_as(["admins"])
    page = ui.get(f"/reports?report=sla&{PERIOD}&team_id={teams['Sales']}")
    assert page.status_code == 200, page.text
    assert re.search(rf'<option value="{teams["Sales"]}" selected>\s*Sales', page.text)
    assert f"team_id={teams['Sales']}" in page.text  # the CSV link keeps the filter
    bad = ui.get(f"/reports?report=sla&{PERIOD}&team_id=abc")
    assert bad.status_code == 422
    assert "team must be chosen from the list" in bad.text
