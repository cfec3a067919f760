"""`/api/v1/saved-views`: personal and shared views, the query checked key by key, and the
multi-key sort the Unassigned box uses (on SQLite and PostgreSQL)."""

from __future__ import annotations

from hubdesk.intake.pipeline import ingest
from tests.integration.ui.mails import message
from tests.support.api import Api

URL = "/api/v1/saved-views"


def test_personal_and_shared_views(api: Api) -> None:
    """An agent's personal view is theirs alone; a shared view needs `views.share` to make
    and is listed to everyone; an agent may not change a shared one."""
    mine = api.ok(
        api.post(URL, "agents", json={"name": " My  urgent ", "query": {"priority": "critical"}}),
        201,
    )
    assert mine["name"] == "My urgent"
    assert mine["shared"] is False
    assert mine["query"] == {"priority": "critical"}
    refused = api.post(URL, "agents", json={"name": "Team", "shared": True, "query": {}})
    assert refused.status_code == 403
    assert "views.share" in refused.json()["detail"]
    team = api.ok(
        api.post(
            URL,
            "admins",
            json={"name": "Team", "shared": True, "query": {"assignee": "none", "status": ""}},
        ),
        201,
    )
    assert team["query"] == {"assignee": "none", "status": ""}
    listed = api.ok(api.get(URL, "agents"))
    assert [v["name"] for v in listed["items"]] == ["Team", "My urgent"]
    assert [v["name"] for v in api.ok(api.get(URL, "admins"))["items"]] == ["Team"]
    assert api.get(f"{URL}/{mine['id']}", "admins").status_code == 404
    assert api.patch(f"{URL}/{team['id']}", "agents", json={"name": "x"}).status_code == 403
    renamed = api.ok(api.patch(f"{URL}/{mine['id']}", "agents", json={"name": "Fires"}))
    assert renamed["name"] == "Fires"
    assert renamed["query"] == {"priority": "critical"}
    api.ok(api.delete(f"{URL}/{mine['id']}", "agents"), 204)
    assert api.get(f"{URL}/{mine['id']}", "agents").status_code == 404


def test_bad_queries_are_refused_with_what_to_fix(api: Api) -> None:
    for query, words in (
        ({"colour": "red"}, "unknown filter key(s) colour"),
        ({"priority": "huge"}, "query.priority: 'huge'"),
        ({"sort": "-salary"}, "sort key 'salary'"),
        ({"assignee": "someone"}, "query.assignee"),
        ({"per": "7"}, "query.per"),
    ):
        answer = api.post(URL, "agents", json={"name": "bad", "query": query})
        assert answer.status_code == 422, (query, answer.text)
        assert words in answer.json()["detail"], answer.json()
    assert api.post(URL, "agents", json={"name": "", "query": {}}).status_code == 422
    api.ok(api.post(URL, "agents", json={"name": "Twice", "query": {}}), 201)
    again = api.post(URL, "agents", json={"name": "Twice", "query": {}})
    assert again.status_code == 409
    assert "Twice" in again.json()["detail"]
    assert api.post(URL, "agents", json={"name": "x", "extra": 1}).status_code == 422


def test_sort_by_priority_then_age(api: Api) -> None:
    """`sort=-priority,created_at`: the highest priority first, the oldest first within it."""
    for subject in ("question one", "urgent first", "plain", "urgent second", "question two"):
        assert ingest(api.runtime, message(subject=subject, text="x"), source="t").ticket_id
    found = api.ok(api.get("/api/v1/tickets?sort=-priority,created_at", "agents"))
    assert [t["subject"] for t in found["items"]] == [
        "urgent first",
        "urgent second",
        "plain",
        "question one",
        "question two",
    ]
    assert api.get("/api/v1/tickets?sort=-priority,salary", "agents").status_code == 422
