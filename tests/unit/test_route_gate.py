"""`hubdesk.web.route_gate`: a gated router answers exactly as the router it holds, and a
request that is not its own never builds its routes.

Whether FastAPI built a route is seen from outside: building a route reads its endpoint's
signature (`inspect.signature`), which these endpoints count.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from hubdesk.web.route_gate import gated


class _Counted:
    """An endpoint that counts how often its signature is read."""

    def __init__(self, answer: Callable[..., Any]) -> None:
        self._answer = answer
        self.signature_reads = 0

    @property
    def __signature__(self) -> inspect.Signature:
        self.signature_reads += 1
        return inspect.signature(self._answer)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._answer(*args, **kwargs)


def _thing(thing_id: int) -> dict[str, int]:
    return {"thing": thing_id}


def _things() -> list[str]:
    return ["a", "b"]


def _page() -> dict[str, str]:
    return {"page": "here"}


def _app(things_router: APIRouter, page: _Counted) -> FastAPI:
    app = FastAPI()
    app.include_router(gated(things_router, "/api"), prefix="/api")
    pages = APIRouter()
    pages.add_api_route("/page", page, methods=["GET"])
    app.include_router(pages)
    return app


@pytest.fixture
def counted() -> tuple[_Counted, _Counted, _Counted]:
    return _Counted(_things), _Counted(_thing), _Counted(_page)


def _router(things: _Counted, thing: _Counted) -> APIRouter:
    router = APIRouter()
    router.add_api_route("/things", things, methods=["GET"])
    router.add_api_route("/things/{thing_id}", thing, methods=["GET"])
    return router


def test_a_request_outside_the_gate_builds_none_of_its_routes(
    counted: tuple[_Counted, _Counted, _Counted],
) -> None:
    things, thing, page = counted
    app = _app(_router(things, thing), page)
    before = (things.signature_reads, thing.signature_reads)
    with TestClient(app) as client:
        assert client.get("/page").json() == {"page": "here"}
        assert client.get("/api/other").status_code == 404
        assert (things.signature_reads, thing.signature_reads) == before
        assert client.get("/api/things/7").json() == {"thing": 7}
        assert thing.signature_reads > before[1]


def test_the_gated_router_answers_as_the_router_itself(
    counted: tuple[_Counted, _Counted, _Counted],
) -> None:
    things, thing, page = counted
    plain = FastAPI()
    plain.include_router(_router(things, thing), prefix="/api")
    gate = _app(_router(things, thing), page)
    asked = [
        ("GET", "/api/things"),
        ("GET", "/api/things/3"),
        ("GET", "/api/things/x"),  # 422: not an integer
        ("POST", "/api/things"),  # 405: the path is there, the method is not
        ("GET", "/api/thing"),
        ("GET", "/api"),
        ("GET", "/apix/things"),
        ("GET", "/api/things/3/more"),
    ]
    with TestClient(plain) as one, TestClient(gate) as other:
        for method, path in asked:
            a, b = one.request(method, path), other.request(method, path)
            assert (a.status_code, a.content) == (b.status_code, b.content), (method, path)


def test_a_route_whose_first_segment_is_a_parameter_is_gated_by_the_prefix_alone(
    counted: tuple[_Counted, _Counted, _Counted],
) -> None:
    _things_endpoint, thing, page = counted
    router = APIRouter()
    router.add_api_route("/{thing_id}", thing, methods=["GET"])
    app = _app(router, page)
    with TestClient(app) as client:
        assert client.get("/api/5").json() == {"thing": 5}
        reads = thing.signature_reads
        assert client.get("/page").status_code == 200
        assert thing.signature_reads == reads


def test_the_mounted_root_path_is_not_part_of_the_match(
    counted: tuple[_Counted, _Counted, _Counted],
) -> None:
    things, thing, page = counted
    app = _app(_router(things, thing), page)
    with TestClient(app, root_path="/helpdesk") as client:
        assert client.get("/helpdesk/api/things").json() == ["a", "b"]
        assert client.get("/helpdesk/page").json() == {"page": "here"}
