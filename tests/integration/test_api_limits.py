"""Every request and response of the API is bounded (probe findings): text fields and custom
fields have documented caps (422 naming the field and the cap), a JSON body over
HUBDESK_MAX_JSON_BYTES is a 413 before it is parsed (raw mail keeps its own limit), `limit`
is at most 200 on every list route, and list items carry a cut description. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from hubdesk.api.limits import (
    LIST_DESCRIPTION_CHARS,
    MAX_COMMENT_CHARS,
    MAX_CUSTOM_FIELDS_BYTES,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_NOTES_CHARS,
    MAX_PAGE_LIMIT,
)
from hubdesk.runtime import Runtime
from hubdesk.web.app import create_app
from tests.support.api import Api


def _refused(response: Any, field: str, limit: int) -> None:
    assert response.status_code == 422, (field, response.status_code, response.text[:300])
    detail = response.json()["detail"]
    assert field in detail, detail
    assert str(limit) in detail, detail


def test_text_fields_are_capped_with_a_422_naming_field_and_limit(api: Api) -> None:
    """Description, comment and reply bodies, customer notes and names, contact names and
    worklog descriptions one character over their cap are refused; at the cap they pass."""
    ticket = api.ok(
        api.post(
            "/api/v1/tickets", json={"subject": "x", "description": "d" * MAX_DESCRIPTION_CHARS}
        ),
        201,
    )
    url = f"/api/v1/tickets/{ticket['id']}"
    over = "d" * (MAX_DESCRIPTION_CHARS + 1)
    _refused(
        api.post("/api/v1/tickets", json={"subject": "x", "description": over}),
        "description",
        MAX_DESCRIPTION_CHARS,
    )
    _refused(api.patch(url, json={"description": over}), "description", MAX_DESCRIPTION_CHARS)
    comment = "c" * (MAX_COMMENT_CHARS + 1)
    _refused(api.post(f"{url}/comments", json={"body": comment}), "body", MAX_COMMENT_CHARS)
    _refused(api.post(f"{url}/replies", json={"body": comment}), "body", MAX_COMMENT_CHARS)
    api.ok(api.post(f"{url}/comments", json={"body": "c" * MAX_COMMENT_CHARS}), 201)
    notes = "n" * (MAX_NOTES_CHARS + 1)
    _refused(
        api.post("/api/v1/customers", json={"name": "A", "notes": notes}), "notes", MAX_NOTES_CHARS
    )
    _refused(
        api.post("/api/v1/customers", json={"name": "A" * (MAX_NAME_CHARS + 1)}),
        "name",
        MAX_NAME_CHARS,
    )
    _refused(
        api.post("/api/v1/contacts", json={"email": "a@b.dk", "name": "A" * (MAX_NAME_CHARS + 1)}),
        "name",
        MAX_NAME_CHARS,
    )
    _refused(
        api.post(f"{url}/worklogs", json={"minutes": 5, "description": notes}),
        "description",
        MAX_NOTES_CHARS,
    )


def test_custom_fields_are_capped_by_their_json_size(api: Api) -> None:
    """custom_fields over MAX_CUSTOM_FIELDS_BYTES of compact JSON are refused on create and
    update, naming the field and the cap; just under it they are stored whole."""
    filler = MAX_CUSTOM_FIELDS_BYTES - len(json.dumps({"k": ""}, separators=(",", ":")))
    fits = {"k": "x" * filler}
    ticket = api.ok(api.post("/api/v1/tickets", json={"subject": "x", "custom_fields": fits}), 201)
    assert ticket["custom_fields"] == fits
    over = {"k": "x" * (filler + 1)}
    _refused(
        api.post("/api/v1/tickets", json={"subject": "x", "custom_fields": over}),
        "custom_fields",
        MAX_CUSTOM_FIELDS_BYTES,
    )
    _refused(
        api.patch(f"/api/v1/tickets/{ticket['id']}", json={"custom_fields": over}),
        "custom_fields",
        MAX_CUSTOM_FIELDS_BYTES,
    )


def test_a_long_tags_array_is_a_422_naming_the_cap(api: Api) -> None:
    """The probe's huge `tags` array answers 422 naming the ten-tag cap at once."""
    response = api.post(
        "/api/v1/tickets", json={"subject": "x", "tags": [f"t{i}" for i in range(20_000)]}
    )
    assert response.status_code == 422
    assert "at most 10 tags" in response.json()["detail"]


def test_every_list_route_caps_limit(api: Api) -> None:
    """Every operation with a `limit` parameter (read from the app's OpenAPI document) answers
    422 naming the cap above MAX_PAGE_LIMIT, and declares the cap as its maximum."""
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    listed = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            limits = [p for p in operation.get("parameters", ()) if p["name"] == "limit"]
            if not limits:
                continue
            assert limits[0]["schema"]["maximum"] == MAX_PAGE_LIMIT, path
            url = path.replace("{ticket_id}", "1")
            response = api.client.request(
                method, url, headers=api.headers(), params={"limit": MAX_PAGE_LIMIT + 1}
            )
            _refused(response, "limit", MAX_PAGE_LIMIT)
            listed += 1
    assert listed >= 15, listed
    page = api.ok(api.get("/api/v1/tickets", params={"limit": MAX_PAGE_LIMIT}))
    assert page["limit"] == MAX_PAGE_LIMIT


def test_list_items_carry_a_cut_description(api: Api) -> None:
    """A ticket in a list page carries at most LIST_DESCRIPTION_CHARS of its description,
    ending in an ellipsis when cut; the ticket itself carries all of it."""
    long_text = "word " * (MAX_DESCRIPTION_CHARS // 5)
    ticket = api.ok(
        api.post("/api/v1/tickets", json={"subject": "long", "description": long_text}), 201
    )
    short = api.ok(api.post("/api/v1/tickets", json={"subject": "short", "description": "hi"}), 201)
    items = {t["id"]: t for t in api.ok(api.get("/api/v1/tickets"))["items"]}
    cut = items[ticket["id"]]["description"]
    assert len(cut) == LIST_DESCRIPTION_CHARS
    assert cut.endswith("\u2026")
    assert long_text.startswith(cut[:-1])
    assert items[short["id"]]["description"] == "hi"
    full = api.ok(api.get(f"/api/v1/tickets/{ticket['id']}"))["description"]
    assert len(full) > LIST_DESCRIPTION_CHARS


@contextmanager
def _client_with(runtime: Runtime, max_json_bytes: int) -> Iterator[TestClient]:
    settings = runtime.settings.model_copy(update={"max_json_bytes": max_json_bytes})
    with TestClient(create_app(settings, runtime=runtime)) as client:
        yield client


def test_a_body_over_the_cap_is_413_before_it_is_parsed(api: Api) -> None:
    """A body over HUBDESK_MAX_JSON_BYTES (1 MiB by default) answers 413 naming the setting,
    whether its Content-Length says so or it arrives in chunks; the body is not even JSON,
    so a 413 (not a 422) shows it was never parsed. At the cap it is parsed as usual."""
    cap = api.runtime.settings.max_json_bytes
    assert cap == 1024 * 1024
    headers = {**api.headers(), "Content-Type": "application/json"}
    junk = b"{" * (cap + 1)
    declared = api.client.post("/api/v1/tickets", content=junk, headers=headers)
    chunked = api.client.post(
        "/api/v1/tickets", content=iter([junk[: cap // 2], junk[cap // 2 :]]), headers=headers
    )
    for response in (declared, chunked):
        assert response.status_code == 413, response.text[:200]
        assert list(response.json()) == ["detail"]
        assert "HUBDESK_MAX_JSON_BYTES" in response.json()["detail"]
        assert str(cap) in response.json()["detail"]
    at_cap = json.dumps({"subject": "x", "description": "d"}).encode()
    at_cap = at_cap[:-1] + b" " * (cap - len(at_cap)) + b"}"
    assert len(at_cap) == cap
    api.ok(api.client.post("/api/v1/tickets", content=at_cap, headers=headers), 201)


def test_the_cap_is_a_setting_and_raw_mail_keeps_its_own_limit(api: Api) -> None:
    """With HUBDESK_MAX_JSON_BYTES=2048 a 3 KB JSON body is a 413, while a larger raw message
    to /inbound/raw is still taken (it is bounded by MAIL_MAX_MESSAGE_BYTES instead)."""
    token = api.login_as("admins")
    with _client_with(api.runtime, 2048) as client:
        headers = {"Authorization": f"Bearer {token}"}
        body = {"subject": "x", "description": "d" * 3000}
        response = client.post("/api/v1/tickets", json=body, headers=headers)
        assert response.status_code == 413
        assert "2048" in response.json()["detail"]
        raw = (
            b"From: someone@example.com\r\nTo: support@support.example.com\r\n"
            b"Subject: big\r\nMessage-ID: <big-raw@example.com>\r\n\r\n" + b"line\r\n" * 2000
        )
        taken = client.post(
            "/api/v1/inbound/raw",
            content=raw,
            headers={**headers, "Content-Type": "message/rfc822"},
        )
        assert taken.status_code == 200, taken.text
        assert taken.json()["status"] == "created"
