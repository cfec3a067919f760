"""No request handler runs database statements on the event loop.

An `async def` route runs on the server's one event loop; a SQLite write waits there for the
database's write lock (up to its 30 s busy timeout) and every other request of the process
waits with it, including the one holding the lock when it needs the loop to go on. A double
click on the bulk Confirm did exactly that under load: the second post waited on the loop for
the lock the first held, the first could not finish, and after 30 s the second answered
"database is locked" (seen in the flake check beside another test suite, 2026-12-04). Routes
that use a database session are plain functions (FastAPI runs them in its thread pool), and
read their form through a dependency (`PostedForm`)."""

from __future__ import annotations

import inspect
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import make_url

from hubdesk.access.deps import get_session
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.web.app import create_app
from tests.integration.ui.client import UiClient
from tests.integration.ui.scenario import printer_ticket
from tests.support.databases import Templates, settings_for
from tests.support.routes import inspected_app


def _takes_a_session(dependant: Dependant) -> bool:
    return dependant.call is get_session or any(_takes_a_session(d) for d in dependant.dependencies)


def test_no_async_route_takes_a_database_session(tmp_path: Path) -> None:
    routes = [
        context.original_route
        for context in iter_route_contexts(inspected_app(tmp_path).routes)
        if isinstance(context.original_route, APIRoute)
    ]
    assert len(routes) > 100  # the probe did see the app's routes
    on_the_loop = sorted(
        f"{sorted(route.methods)} {route.path} ({route.endpoint.__name__})"
        for route in routes
        if inspect.iscoroutinefunction(route.endpoint) and _takes_a_session(route.dependant)
    )
    assert on_the_loop == [], "make these plain functions (read the form with PostedForm)"


def test_a_post_waiting_for_the_write_lock_leaves_other_requests_answered(
    templates: Templates, tmp_path: Path
) -> None:
    """SQLite only: its writers queue on one lock for the whole database. While a bulk post
    waits for the lock (held here by another connection), the server still answers."""
    url = templates.sqlite_copy(tmp_path / "hubdesk.db")
    settings = settings_for(url, tmp_path)
    runtime = Runtime.build(settings)
    try:
        with TestClient(create_app(settings, runtime=runtime)) as client:
            ui = UiClient(client=client, runtime=runtime)
            made = printer_ticket(runtime)
            ui.log_in_as(["agents"], name="Agnes Agent")
            waiting = threading.Event()

            def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
                if statement.startswith("BEGIN IMMEDIATE"):
                    waiting.set()

            holder = sqlite3.connect(str(make_url(url).database), isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            event.listen(runtime.db.engine, "before_cursor_execute", before)
            form = {
                "ids": [str(made.ticket_id)],
                "action": "priority",
                "priority": "high",
                "confirmed": "1",
            }
            with ThreadPoolExecutor(max_workers=2) as pool:
                posted = pool.submit(ui.post, "/tickets/bulk", form)
                try:
                    assert waiting.wait(timeout=60), "the post never began its write"
                    probe = pool.submit(client.get, "/static/app.css")
                    # the post waits up to the 30 s busy timeout: 15 s is the loop stopped
                    answered = probe.result(timeout=15)
                finally:
                    holder.execute("ROLLBACK")
                    holder.close()
                    event.remove(runtime.db.engine, "before_cursor_execute", before)
                assert answered.status_code == 200
                response = posted.result(timeout=60)
            assert response.status_code == 303, response.text
        with runtime.db.transaction(write=False) as session:
            ticket = session.get(Ticket, made.ticket_id)
            assert ticket is not None
            assert ticket.priority == "high"
    finally:
        runtime.close()
