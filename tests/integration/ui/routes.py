"""The UI's routes, read from the app itself, so that a new page is covered automatically."""

from __future__ import annotations

import re
from typing import Final

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from hubdesk.web.ui.routing import UIRoute

PUBLIC: Final = frozenset({"GET /login", "POST /login", "GET /mail-images/{attachment_id}"})
_PARAM: Final = re.compile(r"\{(\w+)\}")


def ui_routes(app: FastAPI) -> list[str]:
    """Every `METHOD /path` of the UI (HEAD aside), sorted."""
    found = {
        f"{method} {context.path}"
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, UIRoute) and context.path is not None
        for method in context.methods or ()
        if method != "HEAD"
    }
    return sorted(found)


def protected(app: FastAPI) -> list[str]:
    return [r for r in ui_routes(app) if r not in PUBLIC]


def fill(path: str, **ids: int) -> str:
    """`/tickets/{ticket_id}` with the given ids (any id not given: `default`)."""
    default = ids.pop("default", 1)
    return _PARAM.sub(lambda m: str(ids.get(m.group(1), default)), path)
