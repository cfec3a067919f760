"""The ticket list's Team filter in Chromium: a member sees "All my teams" (their teams' and
no team's tickets), narrows to one of their teams or to "No team", keeps the choice when
sorting and in a saved view, is never offered another team, and a bad value is refused.
English and Danish, axe-clean."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from hubdesk.intake.pipeline import ingest
from hubdesk.mailboxes import service as mailboxes
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import SYSTEM
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.client import make_user
from tests.support import factories
from tests.support.mail import raw_mail

pytestmark = pytest.mark.e2e


def _tickets(runtime: Runtime) -> tuple[dict[str, int], dict[str, str]]:
    """Teams Support and Sales with a mailbox each, a mailbox of no team, and one ticket of
    each: (team ids, ticket numbers by "Support", "Sales", "none")."""
    with runtime.db.transaction() as session:
        teams = factories.teams_with_mailboxes(session, ("Support", "Sales"), "example.com")
        mailboxes.create_mailbox(session, SYSTEM, name="info", addresses=["info@example.com"])
    numbers = {}
    for key, to in (("Support", "support"), ("Sales", "sales"), ("none", "info")):
        outcome = ingest(
            runtime, raw_mail(to=f"{to}@example.com", subject=f"Mail to {to}"), source="test"
        )
        assert outcome.ticket_number is not None
        numbers[key] = outcome.ticket_number
    return teams, numbers


def test_a_member_filters_the_ticket_list_by_team(
    page: Page, server: str, runtime: Runtime, watch: Watch
) -> None:
    teams, numbers = _tickets(runtime)
    _uid, sales_agent = make_user(runtime, ["agents", "Sales"], name="Sally Sales")
    log_in(page, server, sales_agent)
    page.goto(f"{server}/tickets")
    team = page.get_by_label("Team", exact=True)
    expect(team).to_have_value("")
    expect(team.locator("option")).to_have_text(["All my teams", "No team", "agents", "Sales"])
    rows = page.locator("table tbody")
    expect(rows).to_contain_text(numbers["Sales"])
    expect(rows).to_contain_text(numbers["none"])
    expect(rows).not_to_contain_text(numbers["Support"])
    assert_accessible(page)
    # One team.
    team.select_option(label="Sales")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status").filter(has_text="ticket")).to_have_text("1 ticket")
    expect(rows).to_contain_text(numbers["Sales"])
    expect(rows).not_to_contain_text(numbers["none"])
    assert parse_qs(urlparse(page.url).query)["team"] == [str(teams["Sales"])]
    # Sorting keeps the filter.
    page.get_by_role("columnheader").get_by_role("link", name="Subject").click()
    query = parse_qs(urlparse(page.url).query)
    assert (query["team"], query["sort"]) == ([str(teams["Sales"])], ["subject"])
    expect(page.get_by_label("Team", exact=True)).to_have_value(str(teams["Sales"]))
    # Saved as a view, the view opens with the filter.
    page.get_by_label("Save these filters as a view").fill("Sales only")
    page.get_by_role("button", name="Save view").click()
    expect(page.locator(".flash")).to_contain_text("View Sales only saved.")
    expect(page.get_by_label("Team", exact=True)).to_have_value(str(teams["Sales"]))
    page.goto(f"{server}/tickets")
    page.get_by_role("link", name="Sales only").click()
    expect(page.get_by_label("Team", exact=True)).to_have_value(str(teams["Sales"]))
    expect(rows).not_to_contain_text(numbers["none"])
    # No team.
    page.get_by_label("Team", exact=True).select_option(label="No team")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_contain_text(numbers["none"])
    expect(rows).not_to_contain_text(numbers["Sales"])
    # Another team's id by hand: not in the member's queues, so nothing (not a leak).
    page.goto(f"{server}/tickets?team={teams['Support']}")
    expect(page.get_by_role("status").filter(has_text="ticket")).to_have_text("0 tickets")
    # A bad value is refused with the reason.
    response = page.goto(f"{server}/tickets?team=sales")
    assert response is not None
    assert response.status == 400  # as for customer= or assignee=
    expect(page.locator("body")).to_contain_text("team")
    assert_accessible(page)
    # In Danish.
    page.goto(f"{server}/tickets")
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    expect(page.locator(".flash")).to_have_text("Sproget er skiftet.")
    page.goto(f"{server}/tickets")
    danish = page.get_by_label("Team", exact=True)
    expect(danish.locator("option")).to_have_text(
        ["Alle mine teams", "Intet team", "agents", "Sales"]
    )
    assert_accessible(page)
    assert watch.errors == [], watch.errors


def test_an_admin_is_offered_every_team(
    page: Page, server: str, runtime: Runtime, admin: str, watch: Watch
) -> None:
    teams, numbers = _tickets(runtime)
    log_in(page, server, admin)
    page.goto(f"{server}/tickets")
    team = page.get_by_label("Team", exact=True)
    expect(team.locator("option").first).to_have_text("All teams")
    expect(page.locator("table tbody")).to_contain_text(numbers["Support"])
    team.select_option(label="Support")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table tbody")
    expect(rows).to_contain_text(numbers["Support"])
    expect(rows).not_to_contain_text(numbers["Sales"])
    assert parse_qs(urlparse(page.url).query)["team"] == [str(teams["Support"])]
    assert_accessible(page)
    assert watch.errors == [], watch.errors
