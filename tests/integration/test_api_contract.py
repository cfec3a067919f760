"""The API's general contract: health, JSON errors, no trailing slashes, 401 without a token,
and 503 (not a crash) when the database is unreachable."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hubdesk.config import Settings
from hubdesk.runtime import Runtime
from hubdesk.web.app import create_app
from tests.support.api import Api


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[TestClient]:
    """The app configured for a PostgreSQL server on a port where nothing listens."""
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{_closed_port()}/hubdesk",
        data_dir=tmp_path / "data",
        secret_key="unreachable-test-key-" + "x" * 32,
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(settings, runtime=Runtime.build(settings))) as client:
        yield client


def test_health_needs_no_token(api: Api) -> None:
    """GET /health answers {"status": "ok", "database": "ok"} without authentication."""
    response = api.client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_unreachable_database_answers_503_with_a_reason(unreachable: TestClient) -> None:
    """With the database down, health answers 503 naming the database (why is in the log,
    not shown to anyone who asks), and other routes answer 503 with Retry-After instead of
    failing."""
    response = unreachable.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("error", "unavailable")
    assert body["reason"] == "the database is unavailable; the server log says why"
    assert "127.0.0.1" not in response.text  # the driver's words (host, port) are not public
    listed = unreachable.get("/api/v1/tickets", headers={"Authorization": "Bearer hd_whatever"})
    assert listed.status_code == 503
    assert "detail" in listed.json()
    assert listed.headers["retry-after"] == "30"


def test_trailing_slashes_are_404_not_redirects(api: Api) -> None:
    """A path with a trailing slash is a JSON 404, never a redirect to the canonical path."""
    for method, path in (
        ("GET", "/api/v1/tickets/"),
        ("POST", "/api/v1/tickets/"),
        ("GET", "/api/v1/health/"),
        ("GET", "/api/v1/users/me/"),
    ):
        response = api.client.request(
            method, path, headers=api.headers(), json={"subject": "x"}, follow_redirects=False
        )
        assert response.status_code == 404, (method, path, response.status_code)
        assert "detail" in response.json()


def test_errors_are_json_with_a_detail(api: Api) -> None:
    """Every error answers JSON `{"detail": ...}`: unknown paths, wrong methods, malformed
    JSON, missing credentials, missing permissions, conflicts and validation."""
    ticket = api.ok(api.post("/api/v1/tickets", json={"subject": "x"}), 201)
    api.ok(api.post("/api/v1/customers", json={"name": "A", "domains": ["a.dk"]}), 201)
    responses = {
        404: api.get("/api/v1/nowhere"),
        405: api.client.put("/api/v1/tickets", headers=api.headers()),
        401: api.client.get("/api/v1/tickets"),
        403: api.delete(f"/api/v1/tickets/{ticket['id']}", "readonly"),
        409: api.post("/api/v1/customers", json={"name": "B", "domains": ["a.dk"]}),
        422: api.client.post(
            "/api/v1/tickets",
            content=b'{"subject": ',
            headers={**api.headers(), "Content-Type": "application/json"},
        ),
    }
    for status, response in responses.items():
        assert response.status_code == status, (status, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert list(response.json()) == ["detail"]
        assert response.json()["detail"]
    assert responses[401].headers["www-authenticate"] == "Bearer"
    assert "tickets.delete" in responses[403].json()["detail"]


def test_unknown_body_keys_are_named_in_the_422(api: Api) -> None:
    """A typo in a request body is refused with a 422 naming the key, not silently ignored."""
    for path, body, key in (
        ("/api/v1/tickets", {"subject": "x", "priorty": "high"}, "priorty"),
        ("/api/v1/customers", {"name": "A", "domain": ["a.dk"]}, "domain"),
        ("/api/v1/users", {"email": "a@b.dk", "name": "A", "group": ["agents"]}, "group"),
    ):
        response = api.post(path, json=body)
        assert response.status_code == 422
        assert key in response.json()["detail"]
