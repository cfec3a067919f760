"""Teams in Chromium: an admin gives a mailbox its team (and a page whose team was removed
meanwhile is refused with the reason); one email to two teams' mailboxes shows as two linked
tickets, each in its team's queue; an agent moves a ticket to no team from the details form;
the reports page filters by team. English and Danish, axe-clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.intake.pipeline import ingest
from hubdesk.mailboxes import service as mailboxes
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.models import Group
from hubdesk.users.permissions import SYSTEM
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.integration.ui.client import make_user
from tests.support import factories, reports
from tests.support.mail import raw_mail

pytestmark = pytest.mark.e2e


def _teams(runtime: Runtime) -> dict[str, int]:
    """Teams Support and Sales, each with a mailbox."""
    with runtime.db.transaction() as session:
        made = {name: factories.group(session, name).id for name in ("Support", "Sales")}
        for name, address in (("support", "support@example.com"), ("sales", "sales@example.com")):
            mailboxes.create_mailbox(
                session,
                SYSTEM,
                name=name,
                addresses=[address],
                team_id=made[name.title()],
            )
        mailboxes.create_mailbox(session, SYSTEM, name="info", addresses=["info@example.com"])
    return made


def test_an_admin_sets_a_mailboxs_team_and_a_removed_team_is_refused(
    page: Page, server: str, runtime: Runtime, admin: str, watch: Watch
) -> None:
    _teams(runtime)
    log_in(page, server, admin)
    page.goto(f"{server}/admin/mailboxes")
    page.get_by_role("link", name="info", exact=True).click()
    team = page.get_by_label("Team")
    expect(team).to_have_value("")
    team.select_option(label="Sales")
    assert_accessible(page)
    page.get_by_role("button", name="Save mailbox").click()
    expect(page.get_by_role("status")).to_contain_text("Mailbox info saved.")
    row = page.get_by_role("row").filter(has_text="info@example.com")
    expect(row).to_contain_text("Sales")
    # Cleared: back to no team.
    page.get_by_role("link", name="info", exact=True).click()
    expect(page.get_by_label("Team")).to_have_value(str(_group_id(runtime, "Sales")))
    page.get_by_label("Team").select_option(label="No team")
    page.get_by_role("button", name="Save mailbox").click()
    expect(page.get_by_role("row").filter(has_text="info@example.com")).not_to_contain_text("Sales")
    # A page opened before the team was removed: the choice is refused with the reason.
    page.get_by_role("link", name="info", exact=True).click()
    page.get_by_label("Team").select_option(label="Support")
    with runtime.db.transaction() as session:
        gone = session.scalars(select(Group).where(Group.name == "Support")).one()
        session.delete(gone)
    page.get_by_role("button", name="Save mailbox").click()
    expect(page.get_by_role("alert")).to_contain_text("does not exist")
    expect(page.get_by_label("Team")).to_have_value("")  # the removed team is not offered
    assert_accessible(page)
    assert watch.errors == []


def _group_id(runtime: Runtime, name: str) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalars(select(Group.id).where(Group.name == name)).one()


def test_one_email_to_two_teams_shows_two_linked_tickets_in_their_queues(
    page: Page, server: str, runtime: Runtime, watch: Watch
) -> None:
    teams = _teams(runtime)
    raw = raw_mail(
        subject="Invoice and printer",
        to="support@example.com",
        cc=["sales@example.com"],
        message_id="<both@mail.example.com>",
    )
    outcome = ingest(runtime, raw, source="test")
    assert outcome.ticket_id is not None
    assert len(outcome.team_tickets) == 1
    with runtime.db.transaction(write=False) as session:
        sales_id = session.scalars(
            select(Ticket.id).where(Ticket.ticket_number == outcome.team_tickets[0])
        ).one()
    _uid, sales_agent = make_user(runtime, ["agents", "Sales"], name="Sally Sales")
    log_in(page, server, sales_agent)
    # The Sales agent's queue holds the Sales ticket, not Support's.
    page.goto(f"{server}/tickets")
    listed = page.locator("table tbody")
    expect(listed).to_contain_text(outcome.team_tickets[0])
    expect(listed).not_to_contain_text(outcome.ticket_number or "?")
    page.locator(f"a[href='/tickets/{sales_id}']").first.click()
    expect(page).to_have_url(f"{server}/tickets/{sales_id}")
    linked = page.locator("#linked-tickets")
    expect(linked).to_contain_text("the same email to another team")
    expect(page.get_by_label("Team")).to_have_value(str(teams["Sales"]))
    assert_accessible(page)
    # Following the link opens Support's ticket (a queue is not a lock).
    linked.get_by_role("link", name=outcome.ticket_number or "?").click()
    expect(page).to_have_url(f"{server}/tickets/{outcome.ticket_id}")
    expect(page.get_by_label("Team")).to_have_value(str(teams["Support"]))
    # Cleared to no team: saved, in the timeline, and now in everyone's queue.
    page.get_by_label("Team").select_option(label="No team")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Team")).to_have_value("")
    expect(page.locator(".timeline")).to_contain_text("Support")
    page.goto(f"{server}/tickets")
    expect(page.locator("table tbody")).to_contain_text(outcome.ticket_number or "?")
    # The same page in Danish.
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    expect(page.locator(".flash")).to_have_text("Sproget er skiftet.")
    page.goto(f"{server}/tickets/{sales_id}")
    expect(page.locator("#linked-tickets")).to_contain_text("Sammenkædede sager:")
    expect(page.get_by_label("Team")).to_have_value(str(teams["Sales"]))
    assert_accessible(page)
    assert watch.errors == []


def test_the_reports_page_filters_by_team_and_shows_attainment_per_team(
    page: Page, server: str, runtime: Runtime, admin: str, watch: Watch
) -> None:
    world = reports.build(runtime)
    with runtime.db.transaction() as session:
        sales = factories.group(session, "Sales").id
        for key in ("B", "C"):
            ticket = session.get(Ticket, world.ids[key])
            assert ticket is not None
            ticket.team_id = sales
    log_in(page, server, admin)
    page.goto(f"{server}/reports?report=sla&from=2026-03-02&to=2026-03-06")
    expect(page.get_by_role("img")).to_have_count(4)  # by policy, customer, agent, team
    table = page.locator("#report-table tbody")
    expect(table.locator("tr").filter(has_text="Sales")).to_contain_text("50.0")
    page.get_by_label("Team", exact=True).select_option(label="Sales")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Team", exact=True)).to_have_value(str(sales))
    csv_url = (
        f"/api/v1/reports/sla?from=2026-03-02&to=2026-03-06&interval=day&format=csv&team_id={sales}"
    )
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute("href", csv_url)
    expect(table.locator("tr").filter(has_text="Standard")).to_contain_text("2")
    assert_accessible(page)
    assert watch.errors == []
