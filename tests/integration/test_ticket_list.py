"""Listing tickets: filters, allow-listed sorting, pages with totals, and the text query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hubdesk.tickets import comments
from hubdesk.users.permissions import SYSTEM
from tests.support import factories
from tests.support.api import Api


@dataclass(frozen=True)
class Data:
    fire: int
    danish: int
    network: int
    invoice: int
    customer_a: int
    customer_b: int
    agent_id: int


def _data(api: Api) -> Data:
    """Four tickets created on different days with different attributes."""
    api.login_as("agents")
    agent_id = api.user_ids["agents"]
    with api.runtime.db.transaction() as session:
        a = factories.customer(session, "Alpha A/S")
        b = factories.customer(session, "Beta ApS")
        fire = factories.ticket(
            session,
            "Printer on fire",
            now=datetime(2025, 12, 1, 9, tzinfo=UTC),
            customer_id=a.id,
            priority="high",
            tags=("printer",),
        )
        danish = factories.ticket(
            session,
            "Blåbærgrød på Ærø",
            now=datetime(2025, 12, 2, 9, tzinfo=UTC),
            description="Kunden ønsker hjælp med fakturaen",
            customer_id=b.id,
            priority="low",
            status="in_progress",
            assigned_to_user_id=agent_id,
            tags=("danish",),
        )
        network = factories.ticket(
            session,
            "Network down",
            now=datetime(2025, 12, 3, 9, tzinfo=UTC),
            description="Switch in rack 3",
            priority="critical",
            status="waiting_customer",
        )
        comments.add_comment(session, SYSTEM, network, "The printer driver crashed as well")
        invoice = factories.ticket(
            session,
            "Invoice question",
            now=datetime(2025, 12, 4, 9, tzinfo=UTC),
            tags=("billing",),
        )
        return Data(fire.id, danish.id, network.id, invoice.id, a.id, b.id, agent_id)


def _ids(api: Api, **params: Any) -> list[int]:
    page = api.ok(api.get("/api/v1/tickets", "readonly", params=params))
    return [t["id"] for t in page["items"]]


def test_filters_narrow_the_list(api: Api) -> None:
    """Each filter keeps exactly the matching tickets; status is repeatable; filters combine.
    The default order is newest first."""
    d = _data(api)
    assert _ids(api) == [d.invoice, d.network, d.danish, d.fire]
    assert _ids(api, status="open") == [d.invoice, d.fire]
    assert _ids(api, status=["in_progress", "waiting_customer"]) == [d.network, d.danish]
    assert _ids(api, priority="critical") == [d.network]
    assert _ids(api, priority=["low", "high"]) == [d.danish, d.fire]
    assert _ids(api, customer_id=d.customer_a) == [d.fire]
    assert _ids(api, assigned_to_user_id=d.agent_id) == [d.danish]
    assert _ids(api, unassigned="true") == [d.invoice, d.network, d.fire]
    assert _ids(api, tag="printer") == [d.fire]
    assert _ids(api, tag="#Printer") == [d.fire]
    assert _ids(api, tag="nosuchtag") == []
    assert _ids(api, status="open", priority="high") == [d.fire]
    for bad in ({"status": "done"}, {"priority": "urgent"}):
        response = api.get("/api/v1/tickets", params=bad)
        assert response.status_code == 422
        assert "open" in response.json()["detail"] or "low" in response.json()["detail"]


def test_created_range_takes_aware_and_naive_timestamps(api: Api) -> None:
    """created_from is inclusive and created_to exclusive; a timestamp without an offset is
    read as UTC (like every time the API returns) rather than failing."""
    d = _data(api)
    aware = {"created_from": "2025-12-02T10:00:00+01:00", "created_to": "2025-12-04T09:00:00Z"}
    assert _ids(api, **aware) == [d.network, d.danish]
    naive = {"created_from": "2025-12-02T09:00:00", "created_to": "2025-12-04T09:00:00"}
    assert _ids(api, **naive) == [d.network, d.danish]
    assert _ids(api, created_from="2025-12-04") == [d.invoice]
    assert api.get("/api/v1/tickets", params={"created_from": "yesterday"}).status_code == 422


def test_sorting_uses_only_allow_listed_keys(api: Api) -> None:
    """Sorting by priority follows severity (not the alphabet), '-' reverses, and any key not
    on the allow-list (such as a relation path) answers 422 naming the allowed keys."""
    d = _data(api)
    assert _ids(api, sort="priority") == [d.danish, d.invoice, d.fire, d.network]
    assert _ids(api, sort="-priority") == [d.network, d.fire, d.invoice, d.danish]
    assert _ids(api, sort="subject") == [d.danish, d.invoice, d.network, d.fire]
    assert _ids(api, sort="created_at") == [d.fire, d.danish, d.network, d.invoice]
    for bad in ("customer__password", "password_hash", "id; DROP TABLE users", "-secret"):
        response = api.get("/api/v1/tickets", params={"sort": bad})
        assert response.status_code == 422, bad
        detail = response.json()["detail"]
        assert "created_at" in detail, detail
        assert "priority" in detail, detail


def test_pages_carry_the_total_and_never_overlap(api: Api) -> None:
    """limit/offset pages of a sorted list add up to the whole list, each with the total."""
    d = _data(api)
    pages = [
        api.ok(api.get("/api/v1/tickets", params={"limit": 3, "offset": offset, "sort": "subject"}))
        for offset in (0, 3, 6)
    ]
    assert [p["total"] for p in pages] == [4, 4, 4]
    assert [(p["limit"], p["offset"]) for p in pages] == [(3, 0), (3, 3), (3, 6)]
    ids = [t["id"] for p in pages for t in p["items"]]
    assert ids == [d.danish, d.invoice, d.network, d.fire]
    filtered = api.ok(api.get("/api/v1/tickets", params={"limit": 1, "tag": "printer"}))
    assert filtered["total"] == 1


def test_text_query_searches_subject_description_and_comments(api: Api) -> None:
    """q matches whole words and prefixes in subject, description and comments; every word
    must match; Danish letters match in any case."""
    d = _data(api)
    assert sorted(_ids(api, q="printer")) == sorted([d.fire, d.network])
    assert sorted(_ids(api, q="print")) == sorted([d.fire, d.network])
    assert _ids(api, q="printer fire") == [d.fire]
    assert _ids(api, q="fire network") == []
    assert _ids(api, q="rack") == [d.network]
    assert _ids(api, q="driver") == [d.network]
    assert _ids(api, q="Ærø") == [d.danish]
    assert _ids(api, q="ærø") == [d.danish]
    assert _ids(api, q="blåbærgrød") == [d.danish]
    assert _ids(api, q="ønsker hjælp") == [d.danish]
    assert _ids(api, q="FAKTURA") == [d.danish]
    assert _ids(api, q="printer", status="open") == [d.fire]
    page = api.ok(api.get("/api/v1/tickets", params={"q": "printer", "limit": 1}))
    assert (page["total"], len(page["items"])) == (2, 1)


def test_text_query_follows_later_edits(api: Api) -> None:
    """The search document follows the ticket: a new subject and a new comment are found,
    the old subject no longer is."""
    ticket = api.ok(api.post("/api/v1/tickets", json={"subject": "Keyboard sticky"}), 201)
    url = f"/api/v1/tickets/{ticket['id']}"
    api.ok(api.patch(url, json={"subject": "Mouse squeaks"}))
    api.ok(api.post(url + "/comments", json={"body": "Replaced the trackball"}), 201)
    assert _ids(api, q="keyboard") == []
    assert _ids(api, q="mouse") == [ticket["id"]]
    assert _ids(api, q="trackball") == [ticket["id"]]


HOSTILE_QUERIES = [
    '"',
    '"printer',
    "*",
    "printer*",
    "OR",
    "printer OR fire",
    "NOT printer",
    "printer AND",
    "')--",
    "'; DROP TABLE tticket_tickets; --",
    "NEAR(",
    "NEAR(printer fire, 2)",
    "subject:printer",
    "-printer",
    "+printer",
    "^printer",
    "(printer",
    "printer)",
    "!printer",
    "printer & fire | x",
    "<->",
    ":*",
    "\\",
    "%",
    "_",
    "__init__",
    "a_b",
    "\x00",
    "printer\x00fire",
    "🔥",
    "ﬁre",
    "e\u0301",
    "x" * 500,
    " ".join(f"w{i}" for i in range(40)),
]


def test_query_syntax_characters_never_cause_a_server_error(api: Api) -> None:
    """Search syntax of FTS5 and tsquery, SQL fragments and odd characters in q are treated
    as plain words: the answer is a normal list (or 422 for an unusable value), never 5xx,
    and the tickets are all still there afterwards."""
    d = _data(api)
    problems: list[str] = []
    for q in HOSTILE_QUERIES:
        try:
            response = api.get("/api/v1/tickets", params={"q": q})
        except Exception as exc:  # the test client re-raises what became a 500
            problems.append(f"{q!r}: {type(exc).__name__}: {exc}")
            continue
        if response.status_code not in (200, 422):
            problems.append(f"{q!r}: {response.status_code} {response.text}")
        elif response.status_code == 200 and set(response.json()) != {
            "items",
            "total",
            "limit",
            "offset",
            "total_is_lower_bound",
        }:
            problems.append(f"{q!r}: unexpected body {response.text}")
    assert problems == []
    assert sorted(_ids(api)) == sorted([d.fire, d.danish, d.network, d.invoice])
    # Operators are plain words that must match too, not search syntax.
    assert _ids(api, q="printer OR fire") == []
    assert _ids(api, q="NOT printer") == []
    assert _ids(api, q="-printer") == _ids(api, q="printer")
    assert _ids(api, q='"printer') == _ids(api, q="printer")
