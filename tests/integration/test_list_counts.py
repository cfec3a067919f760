"""Ticket lists at scale, through the real API and services on SQLite and PostgreSQL:

- totals bounded by HUBDESK_LIST_COUNT_LIMIT (here 3): exact up to `offset` + the bound,
  then `total_is_lower_bound` (db/paging.py); paging on while `offset < total` still reaches
  every ticket once; `exact_total=true` counts them all; a page that is not full is exact;
- the dashboard's counts per priority, bounded the same way;
- the stored `priority_rank` the database computes on every write, read in order from its
  index for the unassigned tickets by priority;
- `team_id=none` on `GET /api/v1/tickets`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hubdesk.config import Settings
from hubdesk.db.paging import Total
from hubdesk.tickets import queries, search
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.states import PRIORITIES, PRIORITY_RANK
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.ui.dashboard import ACTIVE, UNASSIGNED_SORT, active_by_priority
from tests.support import factories
from tests.support.api import Api

BOUND = 3
INDEX = "ix_tticket_tickets_unassigned_rank"
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"list_count_limit": BOUND})


def _seven(api: Api, subject: str = "Printer jam") -> list[int]:
    """Seven tickets, one a day, oldest first (ids in that order)."""
    with api.runtime.db.transaction() as session:
        return [
            factories.ticket(session, f"{subject} {i}", now=START + timedelta(days=i)).id
            for i in range(7)
        ]


def _page(api: Api, **params: object) -> dict[str, object]:
    found: dict[str, object] = api.ok(api.get("/api/v1/tickets", params=params))
    return found


def test_a_long_list_says_its_total_is_a_lower_bound(api: Api) -> None:
    made = _seven(api)
    first = _page(api, limit=2, sort="created_at")
    assert (first["total"], first["total_is_lower_bound"]) == (BOUND, True)
    # The bound moves with the offset: 2 + 3.
    second = _page(api, limit=2, offset=2, sort="created_at")
    assert (second["total"], second["total_is_lower_bound"]) == (5, True)
    # Exactly at the bound's end (4 + 3 = 7 rows, no 8th): exact.
    third = _page(api, limit=2, offset=4, sort="created_at")
    assert (third["total"], third["total_is_lower_bound"]) == (7, False)
    # A page that is not full ends the list: exact.
    last = _page(api, limit=2, offset=6, sort="created_at")
    assert (last["total"], last["total_is_lower_bound"]) == (7, False)
    # Past the end: counted, exact.
    beyond = _page(api, limit=2, offset=9)
    assert (beyond["items"], beyond["total"], beyond["total_is_lower_bound"]) == ([], 7, False)
    # Asked for, every match is counted.
    exact = _page(api, limit=2, exact_total="true")
    assert (exact["total"], exact["total_is_lower_bound"]) == (7, False)
    # A client that pages on while offset < total reaches every ticket, once, in order.
    seen: list[int] = []
    offset, total = 0, 1
    while offset < total:
        page = _page(api, limit=2, offset=offset, sort="created_at")
        seen += [t["id"] for t in page["items"]]  # type: ignore[attr-defined]
        offset, total = offset + 2, int(page["total"])  # type: ignore[call-overload]
    assert seen == made


def test_a_short_or_narrowed_list_is_counted_exactly(api: Api) -> None:
    _seven(api)
    with api.runtime.db.transaction() as session:
        factories.ticket(session, "Invoice question", priority="high")
        factories.ticket(session, "Invoice again", priority="high")
    assert (_page(api, limit=1, priority="high")["total"], True) == (2, True)
    assert _page(api, limit=1, priority="high")["total_is_lower_bound"] is False
    # The text search is bounded like any list, and exact on request.
    found = _page(api, limit=1, q="printer")
    assert (found["total"], found["total_is_lower_bound"]) == (BOUND, True)
    found = _page(api, limit=1, q="printer", exact_total="true")
    assert (found["total"], found["total_is_lower_bound"]) == (7, False)
    found = _page(api, limit=1, q="invoice")
    assert (found["total"], found["total_is_lower_bound"]) == (2, False)


def test_a_bound_smaller_than_the_page_counts_the_page(api: Api) -> None:
    """`limit` 5 over a bound of 3: the total is never below what the page shows."""
    _seven(api)
    page = _page(api, limit=5)
    assert len(page["items"]) == 5  # type: ignore[arg-type]
    assert (page["total"], page["total_is_lower_bound"]) == (5, True)


def test_the_dashboard_counts_per_priority_stop_at_the_bound(api: Api) -> None:
    """Bounded counts per priority agree with the exact grouped count below the bound and
    say "more than" above it; closed, merged and deleted tickets are left out of both."""
    with api.runtime.db.transaction() as session:
        made = [factories.ticket(session, f"T{i}", priority=PRIORITIES[i % 3]) for i in range(14)]
        tickets.update_ticket(session, SYSTEM, made[0], {"status": "resolved"})
        tickets.delete_ticket(session, SYSTEM, made[1])
        tickets.merge_ticket(session, SYSTEM, made[2], made[5])
        exact = active_by_priority(session, SYSTEM)
        bounded = active_by_priority(session, SYSTEM, BOUND)
    # low: 0,3,6,9,12 minus the resolved 0 -> 4; normal: 1,4,7,10,13 minus the deleted 1 -> 4;
    # high: 2,5,8,11 minus the merged 2 -> 3; critical: none.
    assert exact == {"low": Total(4), "normal": Total(4), "high": Total(3)}
    assert bounded == {
        "low": Total(3, True),
        "normal": Total(3, True),
        "high": Total(3),
        "critical": Total(0),
    }


def test_priority_rank_is_computed_by_the_database_on_every_write(api: Api) -> None:
    with api.runtime.db.transaction() as session:
        ticket = factories.ticket(session, "Rank me", priority="low")
        ticket_id = ticket.id
    with api.runtime.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.priority_rank == PRIORITY_RANK["low"]
        tickets.update_ticket(session, SYSTEM, ticket, {"priority": "critical"})
    with api.runtime.db.transaction() as session:
        # A write past the ORM (a set-wise statement) is ranked too.
        session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(priority="high"))
        rank = session.scalar(sa.select(Ticket.priority_rank).where(Ticket.id == ticket_id))
    assert rank == PRIORITY_RANK["high"]
    body = api.ok(api.get(f"/api/v1/tickets/{ticket_id}"))
    assert "priority_rank" not in body  # an index key, not part of the API's ticket


def test_unassigned_by_priority_then_oldest(api: Api, db_kind: str) -> None:
    """The dashboard's unassigned order (`-priority,created_at`) over the stored rank, read
    in that order from its index (no sort step in the plan)."""
    api.login_as("agents")
    with api.runtime.db.transaction() as session:
        spec = [("normal", 0), ("critical", 1), ("low", 2), ("critical", 3), ("high", 4)]
        ids = [
            factories.ticket(session, f"U{day}", priority=p, now=START + timedelta(days=day)).id
            for p, day in spec
        ]
        factories.ticket(
            session, "Taken", priority="critical", assigned_to_user_id=api.user_ids["agents"]
        )
        flt = queries.TicketFilter(
            status=ACTIVE, unassigned=True, include_merged=False, sort=UNASSIGNED_SORT
        )
        found = queries.list_tickets(session, SYSTEM, flt, limit=8, offset=0, count_limit=BOUND)
        assert [t.id for t in found.items] == [ids[1], ids[3], ids[4], ids[0], ids[2]]
        # Five rows on a page of eight: the page ends the list, so its total is exact.
        assert (found.total, found.total_is_lower_bound) == (5, False)
        statement = (
            sa.select(Ticket.id)
            .where(Ticket.assigned_to_user_id.is_(None), Ticket.deleted_at.is_(None))
            .order_by(Ticket.priority_rank.desc(), Ticket.created_at, Ticket.id)
            .limit(8)
        )
        sql = str(statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        if db_kind == "postgresql":
            # So few rows would be sorted in memory; with sorting priced out, the plan shows
            # whether the index can give the order at all.
            session.execute(sa.text("SET LOCAL enable_sort = off"))
            session.execute(sa.text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(session.execute(sa.text(f"EXPLAIN {sql}")).scalars())
            assert INDEX in plan, plan
            assert "Sort" not in plan, plan
        else:
            # Likewise: made to take the index (an error if it cannot answer the query), the
            # plan shows whether it gives the order (no temporary b-tree for ORDER BY).
            forced = sql.replace(
                "FROM tticket_tickets", "FROM tticket_tickets INDEXED BY " + INDEX, 1
            )
            rows = session.execute(sa.text(f"EXPLAIN QUERY PLAN {forced}")).all()
            plan = "\n".join(str(row[-1]) for row in rows)
            assert INDEX in plan, plan
            assert "TEMP B-TREE" not in plan, plan
    listed = _page(api, sort="-priority,created_at", unassigned="true", status="open")
    assert [t["id"] for t in listed["items"]][:5] == [ids[1], ids[3], ids[4], ids[0], ids[2]]  # type: ignore[attr-defined]


def test_team_id_none_lists_the_tickets_of_no_team(api: Api) -> None:
    with api.runtime.db.transaction() as session:
        support = factories.group(session, "Support").id
        sales = factories.group(session, "Sales").id
        theirs = factories.ticket(session, "Support's", team_id=support).id
        others = factories.ticket(session, "Sales'", team_id=sales).id
        nobody = factories.ticket(session, "Nobody's").id
    assert [t["id"] for t in _page(api, team_id="none")["items"]] == [nobody]  # type: ignore[attr-defined]
    assert [t["id"] for t in _page(api, team_id=support)["items"]] == [theirs]  # type: ignore[attr-defined]
    assert sorted(t["id"] for t in _page(api)["items"]) == sorted([theirs, others, nobody])  # type: ignore[attr-defined]
    # A member of Sales sees Sales' and no team's; `none` narrows to no team's.
    api.login_as("sales agent", groups=["agents", "Sales"])
    mine = api.ok(api.get("/api/v1/tickets", "sales agent"))
    assert sorted(t["id"] for t in mine["items"]) == sorted([others, nobody])
    narrowed = api.ok(api.get("/api/v1/tickets", "sales agent", params={"team_id": "none"}))
    assert [t["id"] for t in narrowed["items"]] == [nobody]
    for bad in ("None", "nobody", "0", "-1", "1.5", ""):
        response = api.get("/api/v1/tickets", params={"team_id": bad})
        assert response.status_code == 422, (bad, response.text)


def test_the_openapi_document_describes_team_id_and_the_bounded_total(api: Api) -> None:
    document = api.ok(api.client.get("/openapi.json"))
    operation = document["paths"]["/api/v1/tickets"]["get"]
    team = next(p for p in operation["parameters"] if p["name"] == "team_id")
    variants = team["schema"]["anyOf"]
    assert {"type": "string", "const": "none"} in variants or {
        "type": "string",
        "enum": ["none"],
    } in variants, variants
    assert any(v.get("type") == "integer" and v.get("minimum") == 1 for v in variants), variants
    exact = next(p for p in operation["parameters"] if p["name"] == "exact_total")
    assert exact["schema"]["type"] == "boolean"
    envelope = document["components"]["schemas"]["ListOf_TicketListItem_"]
    assert envelope["properties"]["total_is_lower_bound"]["type"] == "boolean"


def test_a_common_word_finds_the_same_tickets_by_either_plan(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a query matching many tickets reads the list in order and checks each
    (search.COMMON_MATCHES); the tickets, their order and the total are the same as when
    the matches drive the query (PostgreSQL: its planner chooses; the same answers)."""
    made = _seven(api)
    with api.runtime.db.transaction() as session:
        factories.ticket(session, "Invoice question")
    queries_ = [{"q": "printer"}, {"q": "printer jam"}, {"q": "printer 3"}, {"q": "invoice"}]
    slow = [_page(api, limit=2, sort="-created_at", **q) for q in queries_]
    monkeypatch.setattr(search, "COMMON_MATCHES", 2)
    fast = [_page(api, limit=2, sort="-created_at", **q) for q in queries_]
    assert fast == slow
    newest = made[::-1]
    assert [t["id"] for t in fast[0]["items"]] == newest[:2]  # type: ignore[attr-defined]
    assert [t["id"] for t in fast[1]["items"]] == newest[:2]  # type: ignore[attr-defined]
    assert (fast[0]["total"], fast[0]["total_is_lower_bound"]) == (BOUND, True)
    assert [t["id"] for t in fast[2]["items"]] == [made[3]]  # type: ignore[attr-defined]


def test_a_common_query_counts_its_whole_word_matches_first(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a bounded count of a query common as whole words counts those first (FTS5
    reads a whole word's list lazily, but merges a prefix's whole before its first row):
    past the bound that is the answer, without the prefix's list; short of it, the prefix
    matches are counted as before. The totals are the same either way, on both databases."""
    with api.runtime.db.transaction() as session:
        for i in range(4):
            factories.ticket(session, f"Printers offline {i}")
        factories.ticket(session, "Printer jam")
    monkeypatch.setattr(search, "COMMON_MATCHES", 1)
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", 2)
    matched: list[str] = []

    def seen(_c: object, _cur: object, statement: str, parameters: object, *_: object) -> None:
        values = parameters.values() if isinstance(parameters, dict) else parameters or ()
        if "MATCH" in statement:
            matched.extend(str(v) for v in values if isinstance(v, str))  # type: ignore[attr-defined]

    engine = api.runtime.db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        # Whole-word "printers": 4 matches, past the bound of 2.
        found = _page(api, limit=1, q="printers")
        prefix_reads = matched.count('"printers"*')
        matched.clear()
        # Whole-word "printer": 1 match, short of the bound; the prefix "printer" has 5.
        short = _page(api, limit=1, q="printer")
        short_prefix_reads = matched.count('"printer"*')
        # Neither passes the bound: the prefix matches' exact count.
        exact = _page(api, limit=1, q="printer jam")
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert (found["total"], found["total_is_lower_bound"]) == (2, True)
    assert (short["total"], short["total_is_lower_bound"]) == (2, True)
    assert (exact["total"], exact["total_is_lower_bound"]) == (1, False)
    if engine.dialect.name == "sqlite":
        # The page reads the prefix's list; the count did not (the old code read it twice).
        assert prefix_reads == 1
        assert short_prefix_reads == 2


def test_a_text_search_counts_up_to_its_own_lower_bound(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """queries.SEARCH_COUNT_LIMIT (1,000; here 2) bounds a search's total below the list's
    bound (here 3); `exact_total` still counts every match; a list without words keeps the
    list's bound."""
    _seven(api)
    monkeypatch.setattr(queries, "SEARCH_COUNT_LIMIT", 2)
    found = _page(api, limit=1, q="printer")
    assert (found["total"], found["total_is_lower_bound"]) == (2, True)
    found = _page(api, limit=1, q="printer", exact_total="true")
    assert (found["total"], found["total_is_lower_bound"]) == (7, False)
    found = _page(api, limit=1)
    assert (found["total"], found["total_is_lower_bound"]) == (BOUND, True)
