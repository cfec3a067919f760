"""Integers beyond what the API takes are a 422 naming the parameter, never a 500: in every
path, every query parameter and every body field of every route the app serves (read from the
app's own OpenAPI document, checked against tests/support/routes.py so a new route is
covered), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hubdesk.api.limits import MAX_INT
from tests.support.api import Api
from tests.support.routes import api_routes

TOO_BIG = 2**63  # the probe's 9223372036854775808: one past the databases' 64-bit integers


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return dict(node)


def _is_integer(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(spec, schema)
    if schema.get("type") == "integer":
        return True
    if schema.get("type") == "array":
        return _is_integer(spec, schema.get("items", {}))
    return any(_is_integer(spec, option) for option in schema.get("anyOf", ()))


def _is_array(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(spec, schema)
    return schema.get("type") == "array" or any(
        _is_array(spec, option) for option in schema.get("anyOf", ())
    )


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def _fill(path: str, operation: dict[str, Any], big: str | None = None) -> str:
    for param in operation.get("parameters", ()):
        if param["in"] == "path":
            value = str(TOO_BIG) if param["name"] == big else _sample(param)
            path = path.replace("{" + param["name"] + "}", value)
    return path


def _sample(param: dict[str, Any]) -> str:
    enum = param["schema"].get("enum")
    return str(enum[0]) if enum else "1"


def _send(
    api: Api, method: str, path: str, *, params: Any = None, json: Any = None, data: Any = None
) -> Any:
    return api.client.request(
        method,
        path,
        headers=api.headers(),
        params=params,
        json=json,
        data=data,
        files={"file": ("a.txt", b"x")} if data is not None else None,
    )


def _assert_named_422(response: Any, name: str, where: str) -> None:
    assert response.status_code == 422, (where, response.status_code, response.text)
    detail = response.json()["detail"]
    assert isinstance(detail, str), where
    assert name in detail, (where, detail)
    assert "less than or equal to" in detail, (where, detail)


def test_every_route_refuses_integers_beyond_the_limit(api: Api) -> None:
    """Each integer in a path, a query or a JSON/form body, sent as 2^63, is a 422 whose detail
    names the parameter and its largest accepted value."""
    spec = api.client.app.openapi()  # type: ignore[attr-defined]
    operations = list(_operations(spec))
    assert {f"{m} {p}" for m, p, _ in operations if p.startswith("/api/v1/")} == api_routes(
        api.client.app  # type: ignore[arg-type]
    )
    checked = 0
    for method, path, operation in operations:
        for param in operation.get("parameters", ()):
            if not _is_integer(spec, param["schema"]):
                continue
            name, where = param["name"], f"{method} {path} {param['in']} {param['name']}"
            if param["in"] == "path":
                response = _send(api, method, _fill(path, operation, big=name))
            else:
                value = [TOO_BIG] if _is_array(spec, param["schema"]) else TOO_BIG
                response = _send(api, method, _fill(path, operation), params={name: value})
            _assert_named_422(response, name, where)
            checked += 1
        content = operation.get("requestBody", {}).get("content", {})
        for media, body in content.items():
            schema = _resolve(spec, body.get("schema", {}))
            for name, prop in schema.get("properties", {}).items():
                if not _is_integer(spec, prop):
                    continue
                value = [TOO_BIG] if _is_array(spec, prop) else TOO_BIG
                where = f"{method} {path} body {name}"
                if media == "application/json":
                    response = _send(api, method, _fill(path, operation), json={name: value})
                else:
                    response = _send(api, method, _fill(path, operation), data={name: value})
                _assert_named_422(response, name, where)
                checked += 1
    assert checked >= 40, checked


def test_the_probes_requests_are_422(api: Api) -> None:
    """The three requests that gave 500 in the probe: a path id, `offset=` and `customer_id`
    in a body and a query."""
    big = str(TOO_BIG)
    for response in (
        api.get(f"/api/v1/tickets/{big}"),
        api.get("/api/v1/tickets", params={"offset": big}),
        api.get("/api/v1/tickets", params={"customer_id": big}),
        api.post("/api/v1/tickets", json={"subject": "x", "customer_id": TOO_BIG}),
        api.post("/api/v1/prepaid-cards", json={"customer_id": TOO_BIG, "hours_bought": "1"}),
    ):
        assert response.status_code == 422, response.text
        assert list(response.json()) == ["detail"]


def test_the_largest_accepted_integer_reaches_the_database_safely(api: Api) -> None:
    """At the limit itself the database answers: a 404 for an id nobody has, an empty page at
    the largest offset, and a 422 naming the missing customer in a body."""
    assert api.get(f"/api/v1/tickets/{MAX_INT}").status_code == 404
    page = api.ok(api.get("/api/v1/tickets", params={"offset": MAX_INT}))
    assert (page["items"], page["offset"]) == ([], MAX_INT)
    response = api.post("/api/v1/tickets", json={"subject": "x", "customer_id": MAX_INT})
    assert response.status_code == 422
    assert str(MAX_INT) in response.json()["detail"]


def test_nested_workflow_parameters_are_bounded_too(api: Api) -> None:
    """An id inside a workflow step's parameters is bounded like any other body integer."""
    response = api.post(
        "/api/v1/workflows/validate",
        json={
            "name": "w",
            "classification_trigger": "*",
            "workflow_steps": [{"action": "set_customer", "params": {"customer_id": TOO_BIG}}],
        },
    )
    assert response.status_code == 422, response.text
    assert "customer_id" in response.json()["detail"]
