"""The ticket page keeps itself current: a server-sent event stream per ticket, and presence.

`GET /tickets/{id}/events` (the session's cookie authenticates it; the ticket must be visible
to the viewer) sends `changed` when the ticket's fingerprint moves (a new mail, comment,
note, worklog or file, or any field change: the ticket's version), and `presence` when the
colleagues on the ticket change ("Anna is also viewing", "Bo is replying"). The page's script
then fetches the page again and swaps in the new history and facts, leaving what the agent
is typing alone. Without JavaScript the page simply does not update.

The fingerprint is read from the database, so changes made by any process (the mail worker,
another web process) are seen. Presence is kept in this process's memory: the page reports
"viewing" when it is loaded and "viewing"/"replying" every `HEARTBEAT_SECONDS` after
(`POST /tickets/{id}/presence`); an entry expires `PRESENCE_TTL` after its last report. With
several web processes behind a balancer, each knows only its own viewers (presence would need
a shared store such as the database or Redis; sticky sessions per ticket are not enough).

A stream ends by itself after `STREAM_SECONDS` (the browser reconnects), and when the client
goes away, so a server shutting down waits for no stream longer than its graceful timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

import anyio
from fastapi import Form, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Attachment, Comment, EmailLog, Ticket
from hubdesk.tickets.visibility import get_visible_ticket
from hubdesk.users.models import User
from hubdesk.web.ui import i18n
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.templating import language_of
from hubdesk.worklogs.models import Worklog

router = page_router()
PRESENCE_TTL: Final = 30.0
HEARTBEAT_SECONDS: Final = 10
STREAM_SECONDS: Final = 300.0
STATES: Final = ("viewing", "replying")


@dataclass
class Presence:
    """Who has which ticket open, in this process (thread-safe; entries expire)."""

    ttl: float = PRESENCE_TTL
    _seen: dict[int, dict[int, tuple[str, str, float]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def report(self, ticket_id: int, user_id: int, name: str, state: str) -> None:
        with self._lock:
            self._seen.setdefault(ticket_id, {})[user_id] = (name, state, time.monotonic())

    def leave(self, ticket_id: int, user_id: int) -> None:
        with self._lock:
            self._seen.get(ticket_id, {}).pop(user_id, None)

    def others(self, ticket_id: int, user_id: int | None) -> list[tuple[str, str]]:
        """(name, state) of everyone else on the ticket, replying first, by name."""
        now = time.monotonic()
        with self._lock:
            entries = self._seen.get(ticket_id, {})
            for key in [k for k, (_n, _s, at) in entries.items() if now - at > self.ttl]:
                del entries[key]
            found = [(n, s) for k, (n, s, _at) in entries.items() if k != user_id]
        return sorted(found, key=lambda item: (item[1] != "replying", item[0]))


@dataclass
class Live:
    """The app's live-update state: presence and how often a stream looks for changes."""

    presence: Presence = field(default_factory=Presence)
    poll_seconds: float = 1.0
    stream_seconds: float = STREAM_SECONDS


def live_of(request: Request) -> Live:
    found: Live = request.app.state.ui_live
    return found


def fingerprint(session: Session, ticket_id: int) -> str:
    """Moves whenever something shown on the ticket page changes."""
    ticket = session.get(Ticket, ticket_id)
    version = ticket.version if ticket is not None else 0
    counts = [
        session.scalar(select(func.max(model.id)).where(model.ticket_id == ticket_id)) or 0
        for model in (Comment, EmailLog, Worklog, Attachment)
    ]
    return "-".join(str(n) for n in (version, *counts))


def presence_text(others: list[tuple[str, str]], _: i18n.Translate) -> str:
    parts = [
        _("{name} is replying.", name=name)
        if state == "replying"
        else _("{name} is also viewing this ticket.", name=name)
        for name, state in others
    ]
    return " ".join(parts)


def viewer_name(runtime: Runtime, user_id: int | None) -> str:
    if user_id is None:
        return "?"
    with runtime.db.transaction(write=False) as session:
        user = session.get(User, user_id)
        return user.name if user is not None else "?"


@router.get("/tickets/{ticket_id}/events")
async def events(
    request: Request, ticket_id: int, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    principal = viewer.principal
    live = live_of(request)
    _ = i18n.translator(language_of(request))

    def current() -> str:
        with runtime.db.transaction(write=False) as session:
            get_visible_ticket(session, principal, ticket_id)
            return fingerprint(session, ticket_id)

    first = await run_in_threadpool(current)

    async def stream() -> AsyncIterator[dict[str, Any]]:
        seen, shown = first, None
        deadline = time.monotonic() + live.stream_seconds
        while time.monotonic() < deadline and not await request.is_disconnected():
            now = await run_in_threadpool(current)
            if now != seen:
                seen = now
                yield {"event": "changed", "data": now}
            others = live.presence.others(ticket_id, principal.user_id)
            if others != shown:
                shown = others
                data = {
                    "text": presence_text(others, _),
                    "replying": [n for n, s in others if s == "replying"],
                }
                yield {"event": "presence", "data": json.dumps(data)}
            await anyio.sleep(live.poll_seconds)

    return EventSourceResponse(stream(), ping=15, send_timeout=10)


@router.post("/tickets/{ticket_id}/presence")
def report_presence(
    request: Request,
    ticket_id: int,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    state: Annotated[str, Form()] = "viewing",
) -> Response:
    """The page's heartbeat: `viewing`, `replying`, or `left`. Answers 204."""
    principal = viewer.principal
    with runtime.db.transaction(write=False) as session:
        get_visible_ticket(session, principal, ticket_id)
    if principal.user_id is not None:
        presence = live_of(request).presence
        if state in STATES:
            presence.report(
                ticket_id, principal.user_id, viewer_name(runtime, principal.user_id), state
            )
        else:
            presence.leave(ticket_id, principal.user_id)
    return Response(status_code=204)
