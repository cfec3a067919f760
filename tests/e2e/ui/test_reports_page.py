"""The reports page in Chromium: filters filled in as a person would, the SVG charts and the
table of numbers, a CSV download (neutralised), a bad date kept on the form with its error,
no axe-core WCAG 2.1 AA violations in English or Danish, and no page for an agent."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from hubdesk.runtime import Runtime
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in
from tests.support import reports

pytestmark = pytest.mark.e2e


def _show(page: Page, report: str, start: str, end: str) -> None:
    page.get_by_label("Report").select_option(label=report)
    page.get_by_label("From", exact=True).fill(start)
    page.get_by_label("To", exact=True).fill(end)
    page.get_by_role("button", name="Show").click()


def test_reports_charts_table_and_csv_download(
    page: Page, server: str, runtime: Runtime, admin: str, watch: Watch
) -> None:
    reports.build(runtime)
    log_in(page, server, admin)
    page.get_by_role("link", name="Reports").click()
    _show(page, "Tickets created and resolved", "2026-03-02", "2026-03-06")
    expect(page.get_by_role("heading", name="Tickets created and resolved")).to_be_visible()
    charts = page.get_by_role("img")
    expect(charts).to_have_count(2)
    expect(page.locator("svg.chart title").first).to_have_text("Tickets created and resolved")
    expect(page.locator("svg.chart rect.bar")).not_to_have_count(0)
    table = page.locator("#report-table")
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(table.locator("tbody tr").first).to_contain_text("2026-03-02")
    expect(table.locator("tfoot")).to_contain_text("Total")
    assert_accessible(page)

    _show(page, "Customers", "2026-03-02", "2026-03-06")
    expect(page.locator("#report-table tbody tr").first).to_contain_text("=Beta")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "hubdesk-customers-2026-03-02-2026-03-06.csv"
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["customer_id", "customer", "created"]
    assert rows[1][1:3] == ["'=Beta", "2"]
    assert rows[-1][0] == "total"

    # The tickets nobody owns are named, in the chart and the table (they were "–").
    expect(page.locator("#report-table tbody")).to_contain_text("No customer")
    _show(page, "Agents", "2026-03-02", "2026-03-06")
    unassigned = page.locator("#report-table tbody tr").filter(has_text="Unassigned")
    expect(unassigned).to_have_count(1)
    expect(unassigned.locator("td").nth(2)).to_have_text("1")  # ticket D
    expect(page.locator("svg.chart text").filter(has_text="Unassigned")).to_have_count(1)

    _show(page, "SLA attainment", "2026-03-02", "2026-03-06")
    expect(page.get_by_role("img")).to_have_count(4)  # by policy, customer, agent, team
    assert_accessible(page)
    assert watch.errors == []


def test_bad_dates_stay_on_the_form_with_the_error(
    page: Page, server: str, runtime: Runtime, admin: str
) -> None:
    log_in(page, server, admin)
    page.goto(f"{server}/reports")
    _show(page, "Agents", "2026-13-01", "2026-03-06")
    expect(page.get_by_role("alert")).to_contain_text("YYYY-MM-DD")
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-13-01")
    expect(page.get_by_label("Report")).to_have_value("agents")
    assert_accessible(page)
    page.get_by_label("From", exact=True).fill("2026-03-09")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("after")
    page.get_by_label("From", exact=True).fill("")  # cleared: the 30 days up to `to`
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".result-count")).to_contain_text("2026-02-05 to 2026-03-06")


def test_reports_in_danish_and_not_for_agents(
    page: Page, server: str, runtime: Runtime, admin: str, agent: str
) -> None:
    reports.build(runtime)
    log_in(page, server, admin)
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    page.goto(f"{server}/reports?report=volume&from=2026-03-02&to=2026-03-06")
    expect(page.get_by_role("heading", name="Rapporter")).to_be_visible()
    expect(page.locator(".result-count")).to_contain_text("5 rækker")
    page.goto(f"{server}/reports?report=prepaid&from=2026-03-02&to=2026-03-06")
    expect(page.locator(".result-count")).to_contain_text("2 rækker")
    page.goto(f"{server}/reports?report=agents&from=2026-03-02&to=2026-03-06")
    expect(page.locator("#report-table tbody")).to_contain_text("Uden ansvarlig")
    page.goto(f"{server}/reports?report=sla&from=2026-03-02&to=2026-03-03&customer_id=1")
    expect(page.locator("#report-table")).to_contain_text("SLA-politik")
    assert_accessible(page)
    page.context.clear_cookies()
    log_in(page, server, agent)
    expect(page.get_by_role("link", name="Reports")).to_have_count(0)
    response = page.goto(f"{server}/reports")
    assert response is not None
    assert response.status == 403
