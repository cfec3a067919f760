"""Routers that a request is matched against only when its path can be theirs.

FastAPI (0.165) builds a router's route contexts (each route's dependants and response
fields) the first time a request is matched against that router, once per application, and
Starlette matches routes in order. So an app's first request for a page built every API
route before it reached its page, and a request to the last API router built all the
others: a cold login page took 0.14 s and a cold request to the last API router 0.24 s,
against 2-5 ms warm (2026-12-05, `py-spy` over new apps). A server builds its app once; the
test suite builds one a test, and paid it in each.

`gated(router, prefix)` is a router that holds `router` and answers "no match" at once for a
path that is not under `prefix` or whose first segment under it is none of its routes' first
segments: exact, since no route of `router` can match such a path. A router with a route
whose first segment is a parameter, or a route that is not an HTTP path route, is gated by
the prefix alone. Include the gate with that same prefix: FastAPI checks, and so builds,
every route of a router included without one at `include_router` time.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope


class _Gate(APIRouter):
    def __init__(self, prefix: str, heads: frozenset[str] | None) -> None:
        super().__init__()
        self._prefix = prefix
        self._heads = heads

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not self._may_match(scope):
            return Match.NONE, {}
        return super().matches(scope)

    def _may_match(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path != self._prefix and not path.startswith(self._prefix + "/"):
            return False
        return self._heads is None or _head(path[len(self._prefix) :]) in self._heads


def _head(path: str) -> str:
    """`/tickets/5/comments` -> `tickets`; `/` -> ``."""
    return path.lstrip("/").split("/", 1)[0]


def _heads_of(router: APIRouter) -> frozenset[str] | None:
    heads: set[str] = set()
    for route in router.routes:
        if not isinstance(route, APIRoute):
            return None
        head = _head(route.path)
        if "{" in head:
            return None
        heads.add(head)
    return frozenset(heads)


def gated(router: APIRouter, prefix: str) -> APIRouter:
    """`router` behind a gate; include the result with `prefix`."""
    gate = _Gate(prefix, _heads_of(router))
    gate.include_router(router)
    return gate
