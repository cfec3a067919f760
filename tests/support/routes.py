"""The application's API routes, read from the app itself so that new routes are noticed."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

API_PREFIX = "/api/v1"
PUBLIC = frozenset({"GET /api/v1/health"})


def api_routes(app: FastAPI) -> set[str]:
    """Every `METHOD /path` the app serves under /api/v1 (HEAD and OPTIONS aside)."""
    found: set[str] = set()
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or context.path is None:
            continue
        if not context.path.startswith(API_PREFIX + "/"):
            continue
        for method in context.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                found.add(f"{method} {context.path}")
    return found


def protected_routes(app: FastAPI) -> set[str]:
    return api_routes(app) - PUBLIC


def write_routes(app: FastAPI) -> set[str]:
    return {route for route in protected_routes(app) if not route.startswith("GET ")}


def inspected_app(directory: Path) -> FastAPI:
    """The real application, built without touching a database (routes only)."""
    from hubdesk.config import Settings
    from hubdesk.web.app import create_app

    settings = Settings(
        database_url=f"sqlite:///{directory / 'unused.db'}",
        data_dir=directory / "data",
        secret_key="route-inspection-key-" + "x" * 32,
        _env_file=None,  # type: ignore[call-arg]
    )
    return create_app(settings)
