"""The SLA policy admin page in Chromium: list, create, edit and delete a policy through the
same validation as the API; refused input (a window that ends before it starts, a second
default) is shown on the form with what was typed kept; English and Danish, axe-clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hubdesk.runtime import Runtime
from hubdesk.sla.models import SlaPolicy
from tests.e2e.ui.accessibility import assert_accessible
from tests.e2e.ui.conftest import Watch, log_in

pytestmark = pytest.mark.e2e


def _policies(runtime: Runtime) -> dict[str, tuple[bool, dict[str, object], int]]:
    with runtime.db.transaction(write=False) as session:
        return {
            p.name: (p.is_default, dict(p.hours), p.warning_percent)
            for p in session.scalars(select(SlaPolicy))
        }


def _fill(page: Page, name: str, *, default: bool, monday: str = "08:00-16:00") -> None:
    page.get_by_label("Name", exact=True).fill(name)
    if default:
        page.get_by_label("Default policy").check()
    page.get_by_label("Monday").fill(monday)
    page.get_by_label("Friday").fill("08:00-12:00, 13:00-15:00")
    page.get_by_label("Country holidays").fill("DK")
    for key, minutes in (("First response due", "60"), ("Next response due", "120")):
        page.get_by_label(f"Normal: {key}").fill(minutes)
    page.get_by_label("Normal: Resolution due").fill("480")


def test_create_edit_and_delete_a_policy_with_refusals(
    page: Page, server: str, runtime: Runtime, admin: str, watch: Watch
) -> None:
    log_in(page, server, admin)
    page.get_by_role("link", name="SLA policies").click()
    expect(page.locator(".empty")).to_be_visible()
    assert_accessible(page)
    with page.expect_navigation():  # axe on the new page, not the one being left
        page.get_by_role("link", name="New SLA policy").click()
    assert_accessible(page)
    # A window that ends before it starts: refused, the form keeps what was typed.
    _fill(page, "Office", default=True, monday="16:00-08:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("window 16:00-08:00 ends before it starts")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Office")
    expect(page.get_by_label("Monday")).to_have_value("16:00-08:00")
    expect(page.get_by_label("Normal: Resolution due")).to_have_value("480")
    assert_accessible(page)
    page.get_by_label("Monday").fill("08:00-16:00")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("SLA policy Office saved.")
    assert _policies(runtime)["Office"][1]["fri"] == [["08:00", "12:00"], ["13:00", "15:00"]]
    # A second default clashes with the first.
    page.get_by_role("link", name="New SLA policy").click()
    _fill(page, "Second", default=True)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("is already the default")
    expect(page.get_by_label("Default policy")).to_be_checked()
    # A half-filled priority row is refused with what to fill in.
    page.get_by_label("Default policy").uncheck()
    page.get_by_label("High: First response due").fill("30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("targets.high: fill in all three")
    page.get_by_label("High: First response due").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("SLA policy Second saved.")
    assert set(_policies(runtime)) == {"Office", "Second"}
    # Edit: clearing the time zone is refused; then a new warning percentage is saved.
    page.get_by_role("link", name="Office").click()
    page.get_by_label("Time zone").fill("Mars/Base")
    page.get_by_label("Warning at (% of a target)").fill("90")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("'Mars/Base' is not a known IANA time zone")
    expect(page.get_by_label("Warning at (% of a target)")).to_have_value("90")
    page.get_by_label("Time zone").fill("Europe/Copenhagen")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("SLA policy Office saved.")
    assert _policies(runtime)["Office"][2] == 90
    # Delete, then the same form posted again (a double click, a stale page).
    page.get_by_role("link", name="Second").click()
    stale = page.context.new_page()  # the same policy open in a second tab
    stale.goto(page.url)
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".flash")).to_have_text("SLA policy Second deleted.")
    assert set(_policies(runtime)) == {"Office"}
    stale.get_by_role("button", name="Delete").click()
    page = stale
    expect(page.locator("h1")).to_have_text("Not found")
    assert set(_policies(runtime)) == {"Office"}
    assert watch.errors == []


def test_the_policy_pages_in_danish(
    page: Page, server: str, runtime: Runtime, admin: str, watch: Watch
) -> None:
    log_in(page, server, admin)
    page.get_by_label("Language").select_option("da")
    page.get_by_role("button", name="Change").click()
    expect(page.locator(".flash")).to_have_text("Sproget er skiftet.")
    page.get_by_role("link", name="SLA-politikker").click()
    page.get_by_role("link", name="Ny SLA-politik").click()
    expect(page.get_by_label("Mandag")).to_have_value("08:00-16:00")
    expect(page.get_by_label("Lørdag")).to_have_value("")
    assert_accessible(page)
    page.get_by_label("Navn", exact=True).fill("Kontor")
    page.get_by_label("Tidszone").fill("")
    page.get_by_label("Normal: Første svar senest").fill("60")
    page.get_by_role("button", name="Gem").click()
    # The browser keeps a required field from being sent empty: nothing was saved.
    assert _policies(runtime) == {}
    assert_accessible(page)
    assert watch.errors == []
