"""The OpenAPI document tells the truth (probe finding): error answers are declared as the
`{"detail": "..."}` body they really are (not FastAPI's validation-error list), 404 and the
other errors are declared where they happen, and status and priority filters are enums."""

from __future__ import annotations

import re
from typing import Annotated, Any

import jsonschema_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from hubdesk.inbound.models import STATUSES as INBOUND_STATUSES
from hubdesk.outbox.models import OUTBOX_STATUSES
from hubdesk.prepaid.models import CARD_STATUSES
from hubdesk.tickets.states import PRIORITIES, STATUSES
from hubdesk.workflows.models import EXECUTION_STATUSES
from tests.support.api import Api
from tests.support.routes import PUBLIC


def _spec(api: Api) -> dict[str, Any]:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _schema_of(spec: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    return dict(spec["components"]["schemas"][ref.rsplit("/", 1)[1]])


def _matches(spec: dict[str, Any], schema: dict[str, Any], body: Any) -> bool:
    """A small JSON Schema check for the object shapes the document uses."""
    if schema.get("type") != "object" or not isinstance(body, dict):
        return False
    properties = schema.get("properties", {})
    if not set(schema.get("required", ())) <= set(body) or not set(body) <= set(properties):
        return schema.get("additionalProperties") is True
    kinds = {"string": str, "integer": int, "array": list, "object": dict, "boolean": bool}
    return all(
        isinstance(body[key], kinds[properties[key]["type"]])
        for key in body
        if properties[key].get("type") in kinds
    )


def test_declared_error_schema_matches_real_422_and_404(api: Api) -> None:
    """The declared 422 and 404 of GET /tickets/{ticket_id} name one schema, and a real 422
    (a non-numeric id) and a real 404 (an id nobody has) both match it; FastAPI's
    HTTPValidationError appears nowhere in the document."""
    spec = _spec(api)
    operation = spec["paths"]["/api/v1/tickets/{ticket_id}"]["get"]
    for status, path in (("422", "/api/v1/tickets/not-a-number"), ("404", "/api/v1/tickets/4242")):
        schema = _schema_of(spec, operation["responses"][status])
        assert schema["required"] == ["detail"]
        assert schema["properties"]["detail"]["type"] == "string"
        body = api.get(path).json()
        assert _matches(spec, schema, body), (status, body)
        assert not _matches(spec, schema, {"detail": [{"loc": ["x"], "msg": "y"}]})
    assert "HTTPValidationError" not in str(spec)
    assert "ValidationError" not in spec["components"]["schemas"]


def test_every_protected_operation_declares_the_errors_it_gives(api: Api) -> None:
    """Each operation but the public ones declares 401, 403, 422 and 503; one with a path
    parameter or a body also 404; one that writes also 409; one with a body also 413."""
    spec = _spec(api)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if f"{method.upper()} {path}" in PUBLIC or not path.startswith("/api/v1/"):
                continue
            declared = set(operation["responses"])
            wanted = {"401", "403", "422", "503"}
            has_path = any(p["in"] == "path" for p in operation.get("parameters", ()))
            if has_path or "requestBody" in operation:
                wanted.add("404")
            if method != "get":
                wanted.add("409")
            if "requestBody" in operation:
                wanted.add("413")
            assert wanted <= declared, (method, path, wanted - declared)
            for status in wanted:
                assert _schema_of(spec, operation["responses"][status])["title"] == "Problem"


def test_real_401_403_409_and_413_match_what_is_declared(api: Api) -> None:
    """Real answers of each declared error kind match the declared schema."""
    spec = _spec(api)
    api.ok(api.post("/api/v1/customers", json={"name": "A", "domains": ["a.dk"]}), 201)
    ticket = api.ok(api.post("/api/v1/tickets", json={"subject": "x"}), 201)
    cases = [
        ("get", "/api/v1/tickets", "401", api.client.get("/api/v1/tickets")),
        (
            "delete",
            "/api/v1/tickets/{ticket_id}",
            "403",
            api.delete(f"/api/v1/tickets/{ticket['id']}", "readonly"),
        ),
        (
            "post",
            "/api/v1/customers",
            "409",
            api.post("/api/v1/customers", json={"name": "B", "domains": ["a.dk"]}),
        ),
        (
            "post",
            "/api/v1/tickets",
            "413",
            api.post("/api/v1/tickets", content=b"x" * (2 * 1024 * 1024)),
        ),
    ]
    for method, path, status, response in cases:
        assert str(response.status_code) == status, (path, response.status_code)
        answer = spec["paths"][path][method]["responses"][status]
        assert _matches(spec, _schema_of(spec, answer), response.json()), (path, status)


def _query_enum(spec: dict[str, Any], path: str, name: str) -> tuple[str, ...]:
    for param in spec["paths"][path]["get"]["parameters"]:
        if param["name"] == name:
            schema = param["schema"]
            options = [schema, *schema.get("anyOf", ())]
            for option in options:
                items = option.get("items", option)
                if "enum" in items:
                    return tuple(items["enum"])
            raise AssertionError(f"{path} {name} is not an enum: {schema}")
    raise AssertionError(f"{path} has no parameter {name}")


def test_status_and_priority_filters_are_enums_of_the_real_values(api: Api) -> None:
    """The ticket list's status and priority filters are arrays of enums holding exactly the
    statuses and priorities tickets have; every other status filter lists its model's values.
    An unknown status is a 422 naming the accepted ones."""
    spec = _spec(api)
    assert _query_enum(spec, "/api/v1/tickets", "status") == STATUSES
    assert _query_enum(spec, "/api/v1/tickets", "priority") == PRIORITIES
    assert _query_enum(spec, "/api/v1/prepaid-cards", "status") == CARD_STATUSES
    assert _query_enum(spec, "/api/v1/inbound", "status") == INBOUND_STATUSES
    assert _query_enum(spec, "/api/v1/outbox", "status") == OUTBOX_STATUSES
    assert _query_enum(spec, "/api/v1/workflow-executions", "status") == EXECUTION_STATUSES
    response = api.get("/api/v1/tickets", params={"status": "done"})
    assert response.status_code == 422
    assert "waiting_customer" in response.json()["detail"]


# Escapes whose meaning differs between ECMA-262 (and the Rust engine schemathesis validates
# with), where `\d`, `\w` and `\b` are ASCII and `\s` is its own set of spaces, and Python's
# `re`, where all of them are Unicode: a pattern with one of them declares a set that is not
# the one the service checks. `\A` and `\Z` do not exist in ECMA-262.
_AMBIGUOUS_ESCAPES = frozenset("wWsSdDbBAZ")


def _patterns(node: Any, where: str = "#") -> list[tuple[str, str]]:
    """Every `pattern` in the document, with the JSON pointer to where it is declared."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                found.append((where, value))
            else:
                escaped = key.replace("~", "~0").replace("/", "~1")
                found += _patterns(value, f"{where}/{escaped}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _patterns(value, f"{where}/{index}")
    return found


def _ambiguous_escapes(pattern: str) -> list[str]:
    """The escapes of `pattern` in `_AMBIGUOUS_ESCAPES` (`\\\\w` is a backslash and a `w`)."""
    return [
        escape
        for escape in re.findall(r"\\.", pattern, re.DOTALL)
        if escape[1] in _AMBIGUOUS_ESCAPES
    ]


def test_ambiguous_escapes_are_found() -> None:
    assert _ambiguous_escapes(r"^\s*[\w-]+$") == [r"\s", r"\w"]
    assert _ambiguous_escapes(r"[^\\s]\\w\.\x20") == []
    assert _ambiguous_escapes(r"(?![\s\S])") == [r"\s", r"\S"]


def test_every_declared_pattern_means_the_same_in_ecma_262_and_python(api: Api) -> None:
    """No pattern in the document uses `\\w`, `\\s`, `\\d`, `\\b` (or their negations), `\\A` or
    `\\Z`: a client (and schemathesis) reads them as ECMA-262 does, the service as Python
    does, and the long pass found values one reading accepts and the other refuses."""
    patterns = _patterns(_spec(api))
    assert len(patterns) >= 10  # the walk finds the document's patterns
    wrong = [(where, pattern) for where, pattern in patterns if _ambiguous_escapes(pattern)]
    assert not wrong, "\n".join(f"{where}: {pattern}" for where, pattern in wrong)


# Characters where the two readings part: line breaks Python's `$` and `\s` treat apart,
# spaces only one of them knows, letters and digits beyond ASCII, a character beyond the BMP.
_TRICKY = 'aZ09_-#@. \t\r\n\x0b\x0c\x1c\x1f\x85\xa0\u2028\ufeff\u3000\u200b\xadéİ٣ß€—😀{}*"/:'


def _service_reads(spec: dict[str, Any], where: str, pattern: str, value: str) -> bool:
    """A query or path parameter's pattern is checked by pydantic (its Rust engine, where
    `$` is the end of the string); a body's or a header's by the service with Python's `re`."""
    if where.startswith("#/paths/") and where.endswith("/schema"):
        node: Any = spec
        for part in where[2:].removesuffix("/schema").split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if isinstance(node, list) else node[key]
        if node.get("in") in ("query", "path"):
            adapter = TypeAdapter(Annotated[str, Field(pattern=pattern)])
            try:
                adapter.validate_python(value)
            except PydanticValidationError:
                return False
            return True
    return re.search(pattern, value) is not None


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_declared_pattern_gives_the_service_and_the_validator_one_answer(
    api: Api, data: st.DataObject
) -> None:
    """Strings drawn from a declared pattern (as Python reads it), strings of the characters
    where the readings part, and the two mixed, get the same answer from the service's
    reading (Python's `re`, or pydantic's for a parameter) and from jsonschema-rs (what
    schemathesis validates with, an ECMA-262 reading)."""
    spec = _spec(api)
    where, pattern = data.draw(st.sampled_from(_declared_patterns(spec)), label="pattern")
    tricky = st.text(alphabet=_TRICKY, max_size=3)
    value = data.draw(
        st.one_of(
            st.from_regex(pattern),
            st.text(alphabet=_TRICKY, max_size=12),
            st.tuples(tricky, st.from_regex(pattern), tricky).map("".join),
        ),
        label="value",
    )
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    assert validator.is_valid(value) == _service_reads(spec, where, pattern, value)


def _declared_patterns(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """Each distinct pattern once per reading (parameter or body), with the first place that
    declares it."""
    first: dict[tuple[bool, str], str] = {}
    for where, pattern in sorted(_patterns(spec)):
        first.setdefault((where.startswith("#/paths/"), pattern), where)
    return sorted((where, pattern) for (_, pattern), where in first.items())
