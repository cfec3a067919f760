"""Who may reach the UI's pages and forms (HTTP level): logged out, without a CSRF token,
from another site, read-only, with ids that do not exist."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hubdesk.audit.models import AuditEntry
from hubdesk.canned import service as canned
from hubdesk.runtime import Runtime
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.ui.security import PAGE_POLICY
from tests.integration.ui.client import PASSWORD, UiClient, make_user
from tests.integration.ui.routes import fill, protected, ui_routes
from tests.integration.ui.scenario import MailWorld, Scenario, mail_world, printer_ticket
from tests.support.sla import policy as sla_policy

FORM = {"body": "x", "target": "TKT-1", "name": "x", "language": "en", "minutes": "5"}
"""Every field any UI form requires, so that a post gets as far as looking up its ids."""


def _audit_rows(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _ids(made: Scenario, world: MailWorld | None = None) -> dict[str, int]:
    return {
        "ticket_id": made.ticket_id,
        "customer_id": made.customer_id,
        "email_id": 1,
        "attachment_id": 1,
        "inbound_id": 1,
        "user_id": 1,
        **(world.ids() if world is not None else {}),
    }


def test_every_page_sends_a_logged_out_browser_to_login(ui: UiClient) -> None:
    """Every UI route but the login form answers a browser without a session with a redirect
    to /login (`/` included), and a GET remembers where it was going in `next`."""
    routes = protected(ui.client.app)  # type: ignore[arg-type]
    assert "GET /" in routes
    assert "GET /tickets/{ticket_id}" in routes
    for route in routes:
        method, path = route.split(" ", 1)
        response = ui.client.request(method, fill(path), follow_redirects=False)
        assert response.status_code == 303, route
        assert response.headers["location"].startswith("/login"), route
    assert ui.get("/tickets?q=x").headers["location"] == "/login?next=%2Ftickets%3Fq%3Dx"
    assert ui.get("/").headers["location"] == "/login"


def test_every_form_refuses_a_post_without_its_csrf_token(ui: UiClient, runtime: Runtime) -> None:
    """Each UI post answers 403 without the token, with another session's token, and when the
    browser says it comes from another site; nothing is written in any of those cases."""
    made = printer_ticket(runtime)
    ui.log_in_as(["admins"])
    token = ui.csrf
    before = _audit_rows(runtime)
    posts = [r for r in protected(ui.client.app) if r.startswith("POST ")]  # type: ignore[arg-type]
    assert len(posts) >= 10
    for route in posts:
        path = fill(route.split(" ", 1)[1], **_ids(made))
        assert ui.post(path, {"body": "x"}, csrf=False).status_code == 403, route
        assert ui.post(path, {"csrf_token": "forged"}).status_code == 403, route
        cross = ui.post(path, {"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403, route
        foreign = ui.post(path, {"csrf_token": token}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403, route
    assert _audit_rows(runtime) == before


def test_the_login_form_needs_its_own_token(ui: UiClient, runtime: Runtime) -> None:
    """A login posted without the token of the form the browser was given is refused (403),
    so another site cannot log a browser into an account of its choosing."""
    _user_id, email = make_user(runtime, ["agents"])
    response = ui.client.post(
        "/login", data={"email": email, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "hubdesk_session" not in response.cookies


def test_every_page_carries_the_security_headers(ui: UiClient, runtime: Runtime) -> None:
    """Every page (and the login and error pages) forbids inline script, framing and
    referrers; the mail frame has its own sandboxing policy."""
    made = printer_ticket(runtime)
    world = mail_world(runtime, made)
    with runtime.db.transaction() as session:
        policy_id = sla_policy(session).id
    for path in ("/login", "/tickets/999999"):
        response = ui.get(path)
        assert response.headers["content-security-policy"] == PAGE_POLICY, path
    ui.log_in_as(["admins"])
    pages = [r for r in protected(ui.client.app) if r.startswith("GET ")]  # type: ignore[arg-type]
    # The ticket's event stream never ends by itself here (test_live_stream.py checks it); the
    # canned-response text is JSON for the page's script.
    pages = [r for r in pages if not r.endswith("/events") and "/canned/" not in r]
    with runtime.db.transaction() as session:
        shared = canned.create_response(session, SYSTEM, title="Hi", body="Hello", shared=True)
        response_id = shared.id
    for route in pages:
        path = fill(
            route.split(" ", 1)[1],
            **_ids(made, world),
            response_id=response_id,
            policy_id=policy_id,
        )
        response = ui.get(path)
        assert response.status_code == 200, (route, response.status_code)
        headers = response.headers
        assert headers["referrer-policy"] == "no-referrer", route
        assert headers["x-content-type-options"] == "nosniff", route
        if route.endswith("/frame"):
            assert "sandbox" in headers["content-security-policy"]
            assert headers["x-frame-options"] == "SAMEORIGIN"
        elif headers["content-type"].startswith("text/html"):
            assert headers["content-security-policy"] == PAGE_POLICY, route
            assert headers["x-frame-options"] == "DENY", route
            assert "script-src 'self'" in PAGE_POLICY
            assert "unsafe-inline" not in PAGE_POLICY
        else:
            assert headers["content-disposition"].startswith("attachment;"), route
            assert headers["content-security-policy"] == "sandbox", route


def test_a_readonly_user_sees_no_forms_and_cannot_post_edits(
    ui: UiClient, runtime: Runtime
) -> None:
    """The read-only group sees the ticket without its edit, reply, note, worklog and merge
    forms, and each of those posts answers 403 and changes nothing (a reply's page keeps its
    text to copy)."""
    made = printer_ticket(runtime)
    ui.log_in_as(["readonly"])
    page = ui.get(f"/tickets/{made.ticket_id}").text
    assert "Printer prints blank pages" in page
    for action in ("edit", "reply", "note", "worklog", "merge"):
        assert f'action="/tickets/{made.ticket_id}/{action}"' not in page
    before = _audit_rows(runtime)
    for action, data in (
        ("edit", {"status": "resolved", "priority": "high"}),
        ("reply", {"body": "hello"}),
        ("note", {"body": "hello"}),
        ("worklog", {"minutes": "10", "billing": "none"}),
        ("merge", {"target": made.ticket_number}),
    ):
        response = ui.post(f"/tickets/{made.ticket_id}/{action}", data)
        assert response.status_code == 403, action
        if action == "reply":
            # A refused reply is the ticket page with the text kept to copy (not sent).
            assert "You may not do this (permission replies.send)" in response.text
            assert "readonly>hello</textarea>" in response.text
        else:
            assert "Not allowed" in response.text
    assert ui.post("/tickets/bulk", {"action": "close", "ids": [made.ticket_id]}).status_code == 403
    assert ui.get("/admin/users").status_code == 403
    assert ui.get("/admin/inbound").status_code == 403
    assert _audit_rows(runtime) == before
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        assert ticket.status == "open"


@pytest.mark.parametrize("kind", ["missing", "deleted"])
def test_ids_that_do_not_exist_or_are_gone_answer_404(
    ui: UiClient, runtime: Runtime, kind: str
) -> None:
    """Every UI route with an id answers 404 (a page, not 403 or 500) for an id that does not
    exist, and every ticket route also for a deleted ticket, on GET and on POST."""
    made = printer_ticket(runtime)
    ui.log_in_as(["admins"])
    if kind == "deleted":
        with runtime.db.transaction() as session:
            ticket = session.get(Ticket, made.ticket_id)
            assert ticket is not None
            tickets.delete_ticket(session, SYSTEM, ticket)
        ids = {**_ids(made), "default": 10_000}
        routes = [
            r for r in protected(ui.client.app) if "{ticket_id}" in r or "{attachment_id}" in r
        ]  # type: ignore[arg-type]
    else:
        ids = {"default": 10_000}
        routes = [r for r in protected(ui.client.app) if "{" in r]  # type: ignore[arg-type]
    assert routes
    for route in routes:
        method, path = route.split(" ", 1)
        url = fill(path, **ids)
        response = ui.get(url) if method == "GET" else ui.post(url, FORM)
        assert response.status_code == 404, (route, response.status_code)
        assert "Not found" in response.text


def test_the_ui_routes_are_not_in_the_api_schema(ui: UiClient) -> None:
    """The pages stay out of the OpenAPI document; the API's routes keep it to themselves."""
    schema = ui.client.get("/openapi.json").json()
    assert not [p for p in schema["paths"] if not p.startswith("/api/")]
    assert len(ui_routes(ui.client.app)) >= 20  # type: ignore[arg-type]
