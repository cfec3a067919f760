"""Booleans, times and the NUL character as the API's document declares them, through the
real app on SQLite and PostgreSQL (found by the schemathesis long pass on PostgreSQL):

- every boolean of a JSON body takes only `true`/`false` (pydantic's lax mode took `0.0`),
- every time of a JSON body or a query takes only ISO 8601 text (it took `0.0` as 1970),
- no path, query or JSON/form text may hold NUL (PostgreSQL cannot store it: a 500 there).

Each is a 422 whose detail says what to fix. The booleans and times are found in the app's
own OpenAPI document, so a new field is covered."""

from __future__ import annotations

import re
from typing import Any

from hubdesk.api.limits import PLAIN_ADDRESS_PATTERN
from hubdesk.web.nul_guard import _json_has_nul
from tests.integration.test_api_integers import _fill, _operations, _resolve, _send
from tests.support.api import Api


def _kinds(spec: dict[str, Any], schema: dict[str, Any]) -> set[tuple[str, str | None]]:
    schema = _resolve(spec, schema)
    found = {(str(schema.get("type")), schema.get("format"))} if "type" in schema else set()
    for option in schema.get("anyOf", ()):
        found |= _kinds(spec, option)
    found.discard(("null", None))
    return found


def _named_422(response: Any, name: str, words: str, where: str) -> None:
    assert _problem(response, name, words) is None, where


def _problem(response: Any, name: str, words: str) -> str | None:
    """None for a 422 whose detail names `name` and says `words`; else what came."""
    if response.status_code != 422:
        return f"{response.status_code} {response.text[:200]}"
    detail = str(response.json()["detail"])
    return None if name in detail and words in detail else detail


def test_every_boolean_and_time_refuses_a_number(api: Api) -> None:
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    booleans = times = 0
    wrong: list[str] = []

    def check(response: Any, name: str, words: str, where: str) -> None:
        problem = _problem(response, name, words)
        if problem is not None:
            wrong.append(f"{where}: {problem}")

    for method, path, operation in _operations(spec):
        target = _fill(path, operation)
        for param in operation.get("parameters", ()):
            if param["in"] == "query" and _kinds(spec, param["schema"]) == {
                ("string", "date-time")
            }:
                where = f"{method} {path} query {param['name']}"
                response = _send(api, method, target, params={param["name"]: "0.0"})
                check(response, param["name"], "ISO 8601", where)
                times += 1
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        for name, prop in _resolve(spec, body.get("schema", {})).get("properties", {}).items():
            kinds = _kinds(spec, prop)
            where = f"{method} {path} body {name}"
            if kinds == {("boolean", None)}:
                check(_send(api, method, target, json={name: 0.0}), name, "true or false", where)
                check(_send(api, method, target, json={name: "yes"}), name, "true or false", where)
                booleans += 1
            elif kinds == {("string", "date-time")}:
                check(_send(api, method, target, json={name: 0}), name, "ISO 8601", where)
                times += 1
    assert wrong == [], "\n".join(wrong)
    # The fields the pass found, and enough of the others that the walk is not empty.
    assert booleans >= 10, booleans
    assert times >= 3, times


def test_the_passes_requests_are_refused_and_the_right_ones_still_accepted(api: Api) -> None:
    refused = api.post("/api/v1/customers", json={"name": "Acme", "active": 0.0})
    _named_422(refused, "active", "true or false", "customers")
    made = api.ok(api.post("/api/v1/customers", json={"name": "Acme", "active": False}), 201)
    assert made["active"] is False
    _named_422(
        api.get("/api/v1/tickets", params={"created_to": "0.0"}), "created_to", "ISO 8601", "list"
    )
    listed = api.ok(api.get("/api/v1/tickets", params={"created_to": "2026-12-04T00:00:00Z"}))
    assert listed["items"] == []


def test_nul_is_refused_in_the_path_the_query_and_json_and_form_bodies(api: Api) -> None:
    for response, where in (
        (api.get("/api/v1/contacts", params={"email": "a\x00b@example.com"}), "query"),
        (api.get("/api/v1/contacts?email=a%00b"), "query"),
        (api.get("/api/v1/tickets/1%00"), "path"),
        (api.post("/api/v1/customers", json={"name": "A\x00cme"}), "JSON body"),
        (
            api.post(
                "/api/v1/customers",
                content=b'{"name": "A\\u0000cme"}',
                headers={"Content-Type": "application/json; charset=utf-8"},
            ),
            "JSON body",
        ),
    ):
        assert response.status_code == 422, (where, response.text)
        assert "NUL" in response.json()["detail"], where
    # An escaped backslash before the text `u0000` is no NUL: the name keeps it.
    made = api.ok(
        api.post(
            "/api/v1/customers",
            content=b'{"name": "A\\\\u0000cme"}',
            headers={"Content-Type": "application/json"},
        ),
        201,
    )
    assert made["name"] == "A\\u0000cme"
    # The UI's forms answer in text.
    form = api.client.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    assert form.status_code == 422
    assert "NUL" in form.text
    # Raw mail is bytes: NUL is legal there and goes through to the mail parser.
    raw = api.post(
        "/api/v1/inbound/raw",
        content=b"From: a@example.com\r\nSubject: nul\r\n\r\nbody \x00 byte\r\n",
        headers={"Content-Type": "message/rfc822"},
    )
    assert raw.status_code < 300, raw.text


def test_the_json_escape_is_told_apart_from_escaped_backslashes() -> None:
    assert _json_has_nul(b'"a\\u0000"')
    assert _json_has_nul(b'"\\\\\\u0000"')  # an escaped backslash, then the escape
    assert not _json_has_nul(b'"\\\\u0000"')  # an escaped backslash, then text
    assert not _json_has_nul(b'"u0000 \\u0001"')


def test_a_parameter_declared_once_is_given_once_and_integers_are_digits(api: Api) -> None:
    """The long pass on PostgreSQL: `?offset=x&offset=&offset=0.0` was read as 0 (FastAPI takes
    the last value, pydantic's lax mode reads `0.0` as an integer), and a time written as
    `1.5e-155` as a moment of 1970."""
    repeated = api.get("/api/v1/triage?offset=1&offset=0.0&kind=spam")
    _named_422(repeated, "offset", "given 2 times", "triage")
    for value in ("0.0", " 2", "1_000"):
        refused = api.get("/api/v1/tickets", params={"offset": value})
        _named_422(refused, "offset", "whole number", value)
    _named_422(
        api.get("/api/v1/tickets", params={"created_to": "1.5168013907383474e-155"}),
        "created_to",
        "ISO 8601",
        "exponent",
    )
    # Declared arrays still take several values; a plain integer still reads.
    listed = api.ok(api.get("/api/v1/tickets?status=open&status=closed&offset=0&limit=5"))
    assert listed["offset"] == 0
    assert listed["limit"] == 5


def test_a_saved_view_filter_value_is_never_true_or_false(api: Api) -> None:
    """The 60-per-mode pass on PostgreSQL (2026-12-04, second round) saved `{"tag": false}`
    as the tag "0": pydantic's lax mode took `false` as the number 0."""
    for value in (False, True):
        refused = api.post(
            "/api/v1/saved-views", json={"name": "Mine", "query": {"tag": value, "team": None}}
        )
        _named_422(refused, "query", "not true or false", f"tag {value}")
    made = api.ok(
        api.post("/api/v1/saved-views", json={"name": "Mine", "query": {"tag": "0", "team": None}}),
        201,
    )
    assert made["query"] == {"tag": "0"}


def test_hours_bought_is_declared_and_checked_as_whole_minutes(api: Api) -> None:
    """The same pass sent `hours_bought: 4380.82` (valid as the document then said: two
    decimals) and got a 422 (4380.82 hours is not a whole number of minutes). The document
    now declares steps of 0.05 hours, and the API refuses the rest with that sentence."""
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    card = _resolve(spec, spec["components"]["schemas"]["CardCreate"])
    number, text = card["properties"]["hours_bought"]["anyOf"]
    assert number["multipleOf"] == 0.05
    assert re.match(text["pattern"], "4380.85")
    assert not re.match(text["pattern"], "4380.82")
    customer = api.ok(api.post("/api/v1/customers", json={"name": "Acme"}), 201)
    for hours in (4380.82, "4380.82", 0.01, "7.33"):
        refused = api.post(
            "/api/v1/prepaid-cards", json={"customer_id": customer["id"], "hours_bought": hours}
        )
        _named_422(refused, "hours_bought", "whole minutes", repr(hours))
    for hours, minutes in ((4380.85, 262851), ("7.25", 435), (0.35, 21), ("0.05", 3)):
        made = api.ok(
            api.post(
                "/api/v1/prepaid-cards", json={"customer_id": customer["id"], "hours_bought": hours}
            ),
            201,
        )
        assert made["minutes_total"] == minutes, made


def test_a_reply_cc_is_declared_as_the_plain_address_it_must_be(api: Api) -> None:
    """The long pass on PostgreSQL sent a Cc the document allowed (any text) and the service
    refused (it is not an address outgoing mail can carry). The document now declares the
    service's own rule; such a Cc is a 422 from the request's validation."""
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    reply = _resolve(spec, spec["components"]["schemas"]["ReplyIn"])
    assert reply["properties"]["cc"]["items"]["pattern"] == PLAIN_ADDRESS_PATTERN
    made = api.ok(
        api.post(
            "/api/v1/test/email-to-ticket",
            json={"email_data": {"subject": "Help", "from_address": "kim@acme.example"}},
        )
    )
    target = f"/api/v1/tickets/{made['ticket_id']}/replies"
    for cc in ("\x85_T\xcf2\xf4.i+_k\xe4=y", "kim@acme..example", "k\xe4m@acme.example"):
        refused = api.post(target, json={"body": "Hello", "cc": [cc]})
        assert refused.status_code == 422, (cc, refused.text)
        assert "cc" in refused.json()["detail"], refused.json()
    api.ok(api.post(target, json={"body": "Hello", "cc": [" boss@acme.example "]}), 201)
    outbox = api.ok(api.get("/api/v1/outbox", params={"ticket_id": made["ticket_id"]}))["items"]
    assert [m["recipients"] for m in outbox if m["kind"] == "agent_reply"] == [
        ["kim@acme.example", "boss@acme.example"]
    ]
