"""Pages with bounded counts (HUBDESK_LIST_COUNT_LIMIT, here 3; db/paging.py), on both
databases: the ticket list says "More than 25 tickets" and "Page 1 of at least 2" while its
count stopped, the exact figures on the last page; the dashboard's boxes show "N+" (the
customer page only past a page of its tickets); Danish as well; with the limit 0 every
count is exact."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from hubdesk.config import Settings
from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.app import create_app
from tests.integration.ui.client import PASSWORD, UiClient, text_of
from tests.support import factories

BOUND = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"list_count_limit": BOUND})


def _thirty(runtime: Runtime) -> int:
    """30 open unassigned tickets of normal priority for one customer; the customer's id."""
    with runtime.db.transaction() as session:
        customer = factories.customer(session, "Many A/S")
        for i in range(30):
            factories.ticket(session, f"Printer {i}", customer_id=customer.id)
        return customer.id


def _count(page: str, box: str) -> str:
    """The count badge after a dashboard box's heading."""
    found = re.search(rf'id="{box}">.*?<span class="count">([^<]*)</span>', page, re.S)
    assert found, box
    return found.group(1)


def test_the_list_says_more_than_while_its_count_stopped(ui: UiClient, runtime: Runtime) -> None:
    _thirty(runtime)
    ui.log_in_as(["agents"])
    first = text_of(ui.get("/tickets").text)
    assert "More than 25 tickets" in first
    assert "Page 1 of at least 2" in first
    # The last page ends the list: its figures are exact.
    second = text_of(ui.get("/tickets?page=2").text)
    assert "30 tickets" in second
    assert "Page 2 of 2" in second
    assert "at least" not in second
    # A narrower list under the bound: exact.
    assert "0 tickets" in text_of(ui.get("/tickets?priority=high").text)


def test_the_dashboard_and_customer_page_show_n_plus(ui: UiClient, runtime: Runtime) -> None:
    customer_id = _thirty(runtime)
    ui.log_in_as(["agents"])
    page = ui.get("/").text
    # Unassigned: a page of 8 shown, so counted up to 8 (the bound is raised to the page).
    assert _count(page, "dash-unassigned") == "8+"
    assert _count(page, "dash-mine") == "0"
    normal = re.search(r'priority=normal">.*?<span class="count">([^<]*)</span>', page, re.S)
    assert normal is not None
    assert normal.group(1) == f"{BOUND}+"
    high = re.search(r'priority=high">.*?<span class="count">([^<]*)</span>', page, re.S)
    assert high is not None
    assert high.group(1) == "0"
    # The customer page lists 50 of their tickets: all 30 fit, so the count is exact.
    customer = ui.get(f"/customers/{customer_id}").text
    assert _count(customer, "h-tickets") == "30"


def test_danish_says_mere_end(ui: UiClient, runtime: Runtime) -> None:
    _thirty(runtime)
    with runtime.db.transaction() as session:
        users.create_user(
            session,
            SYSTEM,
            email="dorte@agents.example.com",
            name="Dorte Dansk",
            password=PASSWORD,
            groups=["agents"],
            language="da",
        )
    assert ui.log_in("dorte@agents.example.com").status_code == 303
    first = text_of(ui.get("/tickets").text)
    assert "Mere end 25 sager" in first
    assert "Side 1 af mindst 2" in first


def test_limit_zero_counts_everything(settings: Settings) -> None:
    """HUBDESK_LIST_COUNT_LIMIT=0: exact counts everywhere."""
    exact = Runtime.build(settings.model_copy(update={"list_count_limit": 0}))
    try:
        _thirty(exact)
        with TestClient(create_app(exact.settings, runtime=exact)) as client:
            ui = UiClient(client=client, runtime=exact)
            ui.log_in_as(["agents"])
            listed = text_of(ui.get("/tickets").text)
            assert "30 tickets" in listed
            assert "Page 1 of 2" in listed
            assert _count(ui.get("/").text, "dash-unassigned") == "30"
    finally:
        exact.close()
