"""The permission matrix: every API route (read from the app) x no token, a user in no
group, and the three seeded groups. 401 without valid credentials, 403 without the route's
permission, and neither for a caller who has it; 404 for ids that do not exist."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from hubdesk.canned import service as canned
from hubdesk.db.types import utcnow
from hubdesk.intake import pipeline
from hubdesk.tickets import attachments
from hubdesk.users import service as users
from hubdesk.users.permissions import (
    ALL_PERMISSIONS,
    CANNED_MANAGE,
    COMMENTS_CREATE,
    CUSTOMERS_MANAGE,
    EMAILS_CLASSIFY,
    EMAILS_INJECT,
    INBOUND_REPROCESS,
    INBOUND_VIEW,
    MAILBOXES_MANAGE,
    PREPAID_MANAGE,
    PREPAID_VIEW,
    PRIORITY_MANAGE,
    REPLIES_SEND,
    REPORTS_VIEW,
    SLA_MANAGE,
    SYSTEM,
    TICKETS_CREATE,
    TICKETS_DELETE,
    TICKETS_EDIT,
    TICKETS_VIEW,
    USERS_MANAGE,
    WORKFLOWS_MANAGE,
    WORKLOGS_CREATE,
)
from tests.support import factories
from tests.support.api import Api
from tests.support.mail import deeply_nested
from tests.support.routes import inspected_app, protected_routes
from tests.support.sla import policy as sla_policy
from tests.support.sla import policy_body as sla_policy_body

# The seeded groups, as the issue states them (migration 0001 must match).
GROUP_PERMISSIONS: dict[str, frozenset[str]] = {
    "admins": frozenset(ALL_PERMISSIONS),
    "agents": frozenset(
        {
            "tickets.view",
            "tickets.create",
            "tickets.edit",
            "tickets.assign",
            "comments.create",
            "worklogs.create",
            "prepaid.view",
            "replies.send",
        }
    ),
    "readonly": frozenset({"tickets.view", "prepaid.view"}),
}
CALLERS: dict[str, list[str]] = {
    "nogroup": [],
    "readonly": ["readonly"],
    "agents": ["agents"],
    "admins": ["admins"],
}
BAD_CREDENTIALS: dict[str, dict[str, str]] = {
    "no header": {},
    "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    "empty bearer": {"Authorization": "Bearer "},
    "unknown token": {"Authorization": "Bearer hd_" + "x" * 43},
}
MISSING = 999_999


@dataclass
class World:
    """Fresh objects for one route, so that one route's writes never change another's answer."""

    n: int
    ticket_id: int
    ticket_number: str
    other_ticket_id: int
    customer_id: int
    contact_id: int
    card_id: int
    worklog_id: int
    victim_user_id: int
    spare_tokens: dict[str, int]
    inbound_id: int = MISSING
    attachment_id: int = MISSING
    workflow_id: int = MISSING
    execution_id: int = MISSING
    outbox_id: int = MISSING
    flagged: str = "nobody@flags.example.com"
    mailbox_id: int = MISSING
    sla_policy_id: int = MISSING
    saved_views: dict[str, int] = field(default_factory=dict)
    keyword_id: int = MISSING
    canned_id: int = MISSING


def _world(api: Api, n: int) -> World:
    quarantined = pipeline.ingest(api.runtime, deeply_nested(60, tag=f"perm{n}"), source="matrix")
    with api.runtime.db.transaction() as session:
        customer = factories.customer(session, domains=[f"perm{n}.example.com"])
        contact = factories.contact(session, f"contact{n}@perm{n}.example.com", customer.id)
        ticket = factories.ticket(session, customer_id=customer.id)
        other = factories.ticket(session, "Other", customer_id=customer.id)
        card = factories.card(session, customer.id, "5")
        worklog = factories.worklog(session, ticket, 10, billing="prepaid", prepaid_card_id=card.id)
        victim = users.create_user(
            session, SYSTEM, email=f"victim{n}@example.com", name="V", password=None, groups=[]
        )
        upload = attachments.add_attachment(
            session,
            SYSTEM,
            api.runtime.blobs,
            ticket,
            filename="notes.txt",
            content_type="text/plain",
            stream=io.BytesIO(b"matrix notes"),
        )
        ticket.contact_id = contact.id
        execution = factories.failed_run(
            session,
            f"matrix {n}",
            quarantined.inbound_id,
            [{"action": "create_ticket", "params": {}}],
        )
        flagged = f"flag{n}@flags.example.com"
        held = factories.held_reply(session, api.runtime, ticket, flagged)
        mailbox = factories.mailbox(session, f"matrix-{n}", f"box{n}@support.example.com")
        policy = sla_policy(session, f"matrix {n}", default=False)
        keyword = factories.priority_keyword(session, f"matrixword{n}")
        spare, views = {}, {}
        shared = canned.create_response(session, SYSTEM, title="Hi", body="Hello", shared=True)
        spare = {}
        for role, user_id in api.user_ids.items():
            owner = users.get_user(session, user_id)
            spare[role] = users.create_token(session, SYSTEM, owner, name="spare")[0].id
            views[role] = factories.saved_view(session, owner.id, f"matrix {n}").id
        return World(
            n,
            ticket.id,
            ticket.ticket_number,
            other.id,
            customer.id,
            contact.id,
            card.id,
            worklog.id,
            victim.id,
            spare,
            quarantined.inbound_id or MISSING,
            upload.id,
            execution.workflow_id or MISSING,
            execution.id,
            held.id,
            flagged,
            mailbox.id,
            policy.id,
            views,
            keyword.id,
            shared.id,
        )


Request = tuple[str, dict[str, Any]]
Build = Callable[[World, str], Request]


def _at(template: str, **body: Any) -> Build:
    """A request to `template` filled with the world's ids (and `{caller}`), with a JSON body."""

    def build(w: World, caller: str) -> Request:
        path = template.format(
            ticket_id=w.ticket_id,
            ticket_number=w.ticket_number,
            worklog_id=w.worklog_id,
            customer_id=w.customer_id,
            contact_id=w.contact_id,
            card_id=w.card_id,
            user_id=w.victim_user_id,
            token_id=w.spare_tokens.get(caller, MISSING),
            inbound_id=w.inbound_id,
            attachment_id=w.attachment_id,
            workflow_id=w.workflow_id,
            execution_id=w.execution_id,
            outbox_id=w.outbox_id,
            email=w.flagged,
            mailbox_id=w.mailbox_id,
            sla_policy_id=w.sla_policy_id,
            view_id=w.saved_views.get(caller, MISSING),
            keyword_id=w.keyword_id,
            canned_id=w.canned_id,
        )
        payload = {k: (v(w, caller) if callable(v) else v) for k, v in body.items()}
        return path, ({"json": payload} if body or template.startswith("POST") else {})

    return build


def _upload(w: World, caller: str) -> Request:
    """A real multipart upload, so that the permission (not the body) decides the answer."""
    return f"/api/v1/tickets/{w.ticket_id}/attachments", {
        "files": {"file": ("matrix.txt", b"uploaded by the matrix", "text/plain")}
    }


T = "/api/v1/tickets/{ticket_id}"
ANYONE = None
"""Any authenticated user may call the route (it acts on the caller's own things)."""

ROUTES: dict[str, tuple[str | None, Build]] = {
    "GET /api/v1/tickets": (TICKETS_VIEW, _at("/api/v1/tickets")),
    "POST /api/v1/tickets": (TICKETS_CREATE, _at("/api/v1/tickets", subject="Matrix")),
    "GET /api/v1/tickets/by-number/{ticket_number}": (
        TICKETS_VIEW,
        _at("/api/v1/tickets/by-number/{ticket_number}"),
    ),
    "GET /api/v1/tickets/{ticket_id}": (TICKETS_VIEW, _at(T)),
    "PATCH /api/v1/tickets/{ticket_id}": (TICKETS_EDIT, _at(T, priority="high")),
    "DELETE /api/v1/tickets/{ticket_id}": (TICKETS_DELETE, _at(T)),
    "POST /api/v1/tickets/{ticket_id}/merge": (
        TICKETS_EDIT,
        _at(T + "/merge", target_id=lambda w, c: w.other_ticket_id),
    ),
    "GET /api/v1/tickets/{ticket_id}/comments": (TICKETS_VIEW, _at(T + "/comments")),
    "POST /api/v1/tickets/{ticket_id}/comments": (
        COMMENTS_CREATE,
        _at(T + "/comments", body="Matrix comment"),
    ),
    "GET /api/v1/tickets/{ticket_id}/audit": (TICKETS_VIEW, _at(T + "/audit")),
    "GET /api/v1/tickets/{ticket_id}/worklogs": (TICKETS_VIEW, _at(T + "/worklogs")),
    "POST /api/v1/tickets/{ticket_id}/worklogs": (WORKLOGS_CREATE, _at(T + "/worklogs", minutes=5)),
    "DELETE /api/v1/tickets/{ticket_id}/worklogs/{worklog_id}": (
        TICKETS_EDIT,
        _at(T + "/worklogs/{worklog_id}"),
    ),
    "GET /api/v1/tickets/{ticket_id}/worklogs/totals": (TICKETS_VIEW, _at(T + "/worklogs/totals")),
    "GET /api/v1/customers/{customer_id}/worklogs/totals": (
        TICKETS_VIEW,
        _at("/api/v1/customers/{customer_id}/worklogs/totals"),
    ),
    "GET /api/v1/customers": (TICKETS_VIEW, _at("/api/v1/customers")),
    "POST /api/v1/customers": (CUSTOMERS_MANAGE, _at("/api/v1/customers", name="Matrix A/S")),
    "GET /api/v1/customers/{customer_id}": (TICKETS_VIEW, _at("/api/v1/customers/{customer_id}")),
    "PATCH /api/v1/customers/{customer_id}": (
        CUSTOMERS_MANAGE,
        _at("/api/v1/customers/{customer_id}", notes="VIP"),
    ),
    "GET /api/v1/contacts": (TICKETS_VIEW, _at("/api/v1/contacts")),
    "POST /api/v1/contacts": (
        CUSTOMERS_MANAGE,
        _at("/api/v1/contacts", email=lambda w, c: f"{c}{w.n}@matrix.example.com"),
    ),
    "GET /api/v1/contacts/{contact_id}": (TICKETS_VIEW, _at("/api/v1/contacts/{contact_id}")),
    "PATCH /api/v1/contacts/{contact_id}": (
        CUSTOMERS_MANAGE,
        _at("/api/v1/contacts/{contact_id}", name="Renamed"),
    ),
    "GET /api/v1/prepaid-cards": (PREPAID_VIEW, _at("/api/v1/prepaid-cards")),
    "POST /api/v1/prepaid-cards": (
        PREPAID_MANAGE,
        _at("/api/v1/prepaid-cards", customer_id=lambda w, c: w.customer_id, hours_bought=1),
    ),
    "GET /api/v1/prepaid-cards/{card_id}": (PREPAID_VIEW, _at("/api/v1/prepaid-cards/{card_id}")),
    "GET /api/v1/prepaid-cards/{card_id}/balance": (
        PREPAID_VIEW,
        _at("/api/v1/prepaid-cards/{card_id}/balance"),
    ),
    "POST /api/v1/prepaid-cards/{card_id}/cancel": (
        PREPAID_MANAGE,
        _at("/api/v1/prepaid-cards/{card_id}/cancel"),
    ),
    "GET /api/v1/users": (TICKETS_VIEW, _at("/api/v1/users")),
    "POST /api/v1/users": (
        USERS_MANAGE,
        _at("/api/v1/users", email=lambda w, c: f"{c}{w.n}@new.example.com", name="New"),
    ),
    "GET /api/v1/users/me": (ANYONE, _at("/api/v1/users/me")),
    "GET /api/v1/users/{user_id}": (TICKETS_VIEW, _at("/api/v1/users/{user_id}")),
    "PATCH /api/v1/users/{user_id}": (USERS_MANAGE, _at("/api/v1/users/{user_id}", name="Renamed")),
    "GET /api/v1/users/{user_id}/login-lock": (
        USERS_MANAGE,
        _at("/api/v1/users/{user_id}/login-lock"),
    ),
    "DELETE /api/v1/users/{user_id}/login-lock": (
        USERS_MANAGE,
        _at("/api/v1/users/{user_id}/login-lock"),
    ),
    "GET /api/v1/groups": (TICKETS_VIEW, _at("/api/v1/groups")),
    "POST /api/v1/groups": (
        USERS_MANAGE,
        _at("/api/v1/groups", name=lambda w, c: f"Team {c} {w.n}"),
    ),
    "GET /api/v1/tokens": (ANYONE, _at("/api/v1/tokens")),
    "POST /api/v1/tokens": (ANYONE, _at("/api/v1/tokens", name="mine")),
    "DELETE /api/v1/tokens/{token_id}": (ANYONE, _at("/api/v1/tokens/{token_id}")),
    "GET /api/v1/tickets/{ticket_id}/emails": (TICKETS_VIEW, _at(T + "/emails")),
    "GET /api/v1/tickets/by-email/{email_address}": (
        TICKETS_VIEW,
        _at("/api/v1/tickets/by-email/customer@example.com"),
    ),
    "GET /api/v1/tickets/{ticket_id}/attachments": (TICKETS_VIEW, _at(T + "/attachments")),
    "POST /api/v1/tickets/{ticket_id}/attachments": (TICKETS_EDIT, _upload),
    "GET /api/v1/attachments/{attachment_id}": (
        TICKETS_VIEW,
        _at("/api/v1/attachments/{attachment_id}"),
    ),
    "GET /api/v1/attachments/{attachment_id}/download": (
        TICKETS_VIEW,
        _at("/api/v1/attachments/{attachment_id}/download"),
    ),
    "POST /api/v1/test/email-to-ticket": (
        EMAILS_INJECT,
        _at(
            "/api/v1/test/email-to-ticket",
            email_data=lambda w, c: {
                "subject": f"Matrix {c} {w.n}",
                "from_address": f"{c}{w.n}@matrix.example.com",
                "body": "hello",
            },
        ),
    ),
    "POST /api/v1/inbound/raw": (EMAILS_INJECT, _at("/api/v1/inbound/raw")),
    "GET /api/v1/inbound": (INBOUND_VIEW, _at("/api/v1/inbound")),
    "GET /api/v1/inbound/{inbound_id}": (INBOUND_VIEW, _at("/api/v1/inbound/{inbound_id}")),
    "GET /api/v1/inbound/{inbound_id}/raw": (
        INBOUND_VIEW,
        _at("/api/v1/inbound/{inbound_id}/raw"),
    ),
    "POST /api/v1/inbound/{inbound_id}/reprocess": (
        INBOUND_REPROCESS,
        _at("/api/v1/inbound/{inbound_id}/reprocess"),
    ),
    "POST /api/v1/inbound/{inbound_id}/dismissal": (
        INBOUND_REPROCESS,
        _at("/api/v1/inbound/{inbound_id}/dismissal", note="matrix"),
    ),
    "DELETE /api/v1/inbound/{inbound_id}/dismissal": (
        INBOUND_REPROCESS,
        _at("/api/v1/inbound/{inbound_id}/dismissal"),
    ),
    "POST /api/v1/inbound/{inbound_id}/ticket": (
        INBOUND_REPROCESS,
        _at("/api/v1/inbound/{inbound_id}/ticket", sender="matrix@example.com"),
    ),
    "GET /api/v1/workflows": (WORKFLOWS_MANAGE, _at("/api/v1/workflows")),
    "POST /api/v1/workflows": (
        WORKFLOWS_MANAGE,
        _at(
            "/api/v1/workflows",
            name=lambda w, c: f"made by {c} {w.n}",
            classification_trigger="invoice",
            workflow_steps=[{"action": "create_ticket", "params": {}}],
        ),
    ),
    "POST /api/v1/workflows/validate": (
        WORKFLOWS_MANAGE,
        _at(
            "/api/v1/workflows/validate",
            name="checked",
            classification_trigger="invoice",
            workflow_steps=[{"action": "create_ticket", "params": {}}],
        ),
    ),
    "GET /api/v1/workflows/actions": (WORKFLOWS_MANAGE, _at("/api/v1/workflows/actions")),
    "GET /api/v1/workflows/{workflow_id}": (
        WORKFLOWS_MANAGE,
        _at("/api/v1/workflows/{workflow_id}"),
    ),
    "PUT /api/v1/workflows/{workflow_id}": (
        WORKFLOWS_MANAGE,
        _at(
            "/api/v1/workflows/{workflow_id}",
            name=lambda w, c: f"renamed by {c} {w.n}",
            classification_trigger="invoice",
            workflow_steps=[{"action": "create_ticket", "params": {}}],
        ),
    ),
    "DELETE /api/v1/workflows/{workflow_id}": (
        WORKFLOWS_MANAGE,
        _at("/api/v1/workflows/{workflow_id}"),
    ),
    "GET /api/v1/workflow-executions": (WORKFLOWS_MANAGE, _at("/api/v1/workflow-executions")),
    "GET /api/v1/workflow-executions/{execution_id}": (
        WORKFLOWS_MANAGE,
        _at("/api/v1/workflow-executions/{execution_id}"),
    ),
    "POST /api/v1/workflow-executions/{execution_id}/retry": (
        WORKFLOWS_MANAGE,
        _at("/api/v1/workflow-executions/{execution_id}/retry"),
    ),
    "GET /api/v1/inbound/{inbound_id}/classifications": (
        INBOUND_VIEW,
        _at("/api/v1/inbound/{inbound_id}/classifications"),
    ),
    "POST /api/v1/inbound/{inbound_id}/classification": (
        EMAILS_CLASSIFY,
        _at("/api/v1/inbound/{inbound_id}/classification", label="invoice"),
    ),
    "GET /api/v1/triage": (TICKETS_VIEW, _at("/api/v1/triage")),
    "POST /api/v1/triage/{inbound_id}": (
        TICKETS_CREATE,
        _at("/api/v1/triage/{inbound_id}", action="dismiss"),
    ),
    "POST /api/v1/tickets/{ticket_id}/replies": (
        REPLIES_SEND,
        _at(T + "/replies", body="Thanks, fixed."),
    ),
    "GET /api/v1/outbox": (REPLIES_SEND, _at("/api/v1/outbox")),
    "POST /api/v1/outbox/{outbox_id}/retry": (
        REPLIES_SEND,
        _at("/api/v1/outbox/{outbox_id}/retry"),
    ),
    "GET /api/v1/address-flags": (REPLIES_SEND, _at("/api/v1/address-flags")),
    "DELETE /api/v1/address-flags/{email}": (
        REPLIES_SEND,
        _at("/api/v1/address-flags/{email}"),
    ),
    "GET /api/v1/templates": (MAILBOXES_MANAGE, _at("/api/v1/templates")),
    "GET /api/v1/mailboxes": (MAILBOXES_MANAGE, _at("/api/v1/mailboxes")),
    "POST /api/v1/mailboxes": (
        MAILBOXES_MANAGE,
        _at(
            "/api/v1/mailboxes",
            name=lambda w, c: f"{c}-{w.n}",
            addresses=lambda w, c: [f"{c}{w.n}@support.example.com"],
        ),
    ),
    "GET /api/v1/mailboxes/{mailbox_id}": (
        MAILBOXES_MANAGE,
        _at("/api/v1/mailboxes/{mailbox_id}"),
    ),
    "PATCH /api/v1/mailboxes/{mailbox_id}": (
        MAILBOXES_MANAGE,
        _at("/api/v1/mailboxes/{mailbox_id}", enabled=False),
    ),
    "DELETE /api/v1/mailboxes/{mailbox_id}": (
        MAILBOXES_MANAGE,
        _at("/api/v1/mailboxes/{mailbox_id}"),
    ),
    "PUT /api/v1/templates/{key}/{language}": (
        MAILBOXES_MANAGE,
        _at(
            "/api/v1/templates/auto_reply/da",
            subject="[{ticket_number}] Modtaget",
            body="Sagen er {ticket_number}.",
        ),
    ),
    "PUT /api/v1/tickets/{ticket_id}/snooze": (
        TICKETS_EDIT,
        _at(T + "/snooze", until=lambda w, c: (utcnow() + timedelta(days=30)).isoformat()),
    ),
    "DELETE /api/v1/tickets/{ticket_id}/snooze": (TICKETS_EDIT, _at(T + "/snooze")),
    "GET /api/v1/tickets/{ticket_id}/automation-events": (
        TICKETS_VIEW,
        _at(T + "/automation-events"),
    ),
    "POST /api/v1/tickets/{ticket_id}/split": (TICKETS_EDIT, _at(T + "/split", email_ids=[1])),
    "GET /api/v1/sla-policies": (SLA_MANAGE, _at("/api/v1/sla-policies")),
    "GET /api/v1/reports/{name}": (REPORTS_VIEW, _at("/api/v1/reports/volume")),
    "GET /api/v1/tickets/{ticket_id}/sla-escalations": (
        TICKETS_VIEW,
        _at(T + "/sla-escalations"),
    ),
    "POST /api/v1/sla-policies": (
        SLA_MANAGE,
        _at(
            "/api/v1/sla-policies",
            **{k: v for k, v in sla_policy_body("x", default=False).items() if k not in ("name",)},
            name=lambda w, c: f"made by {c} {w.n}",
        ),
    ),
    "GET /api/v1/sla-policies/{policy_id}": (
        SLA_MANAGE,
        _at("/api/v1/sla-policies/{sla_policy_id}"),
    ),
    "PATCH /api/v1/sla-policies/{policy_id}": (
        SLA_MANAGE,
        _at("/api/v1/sla-policies/{sla_policy_id}", warning_percent=70),
    ),
    "DELETE /api/v1/sla-policies/{policy_id}": (
        SLA_MANAGE,
        _at("/api/v1/sla-policies/{sla_policy_id}"),
    ),
    "GET /api/v1/priority-keywords": (PRIORITY_MANAGE, _at("/api/v1/priority-keywords")),
    "POST /api/v1/priority-keywords": (
        PRIORITY_MANAGE,
        _at(
            "/api/v1/priority-keywords",
            word=lambda w, c: f"new{c}{w.n}",
            level="high",
            language="en",
        ),
    ),
    "DELETE /api/v1/priority-keywords/{keyword_id}": (
        PRIORITY_MANAGE,
        _at("/api/v1/priority-keywords/{keyword_id}"),
    ),
    "GET /api/v1/saved-views": (TICKETS_VIEW, _at("/api/v1/saved-views")),
    "POST /api/v1/saved-views": (
        TICKETS_VIEW,
        _at("/api/v1/saved-views", name=lambda w, c: f"new {c} {w.n}", query={"priority": "high"}),
    ),
    "GET /api/v1/saved-views/{view_id}": (TICKETS_VIEW, _at("/api/v1/saved-views/{view_id}")),
    "PATCH /api/v1/saved-views/{view_id}": (
        TICKETS_VIEW,
        _at("/api/v1/saved-views/{view_id}", name="renamed"),
    ),
    "DELETE /api/v1/saved-views/{view_id}": (
        TICKETS_VIEW,
        _at("/api/v1/saved-views/{view_id}"),
    ),
    "GET /api/v1/canned-responses": (COMMENTS_CREATE, _at("/api/v1/canned-responses")),
    "POST /api/v1/canned-responses": (
        COMMENTS_CREATE,
        _at("/api/v1/canned-responses", title="Mine", body="Hello {{contact.name}}"),
    ),
    "GET /api/v1/canned-responses/{response_id}": (
        COMMENTS_CREATE,
        _at("/api/v1/canned-responses/{canned_id}"),
    ),
    "GET /api/v1/canned-responses/{response_id}/fill": (
        COMMENTS_CREATE,
        _at("/api/v1/canned-responses/{canned_id}/fill?ticket_id={ticket_id}"),
    ),
    "PATCH /api/v1/canned-responses/{response_id}": (
        CANNED_MANAGE,
        _at("/api/v1/canned-responses/{canned_id}", title="Hello"),
    ),
    "DELETE /api/v1/canned-responses/{response_id}": (
        CANNED_MANAGE,
        _at("/api/v1/canned-responses/{canned_id}"),
    ),
}
NOT_ID_ROUTES = frozenset(
    {
        "GET /api/v1/tickets/by-email/{email_address}",
        "PUT /api/v1/templates/{key}/{language}",
        "GET /api/v1/reports/{name}",
    }
)
"""Routes whose path parameter is not an object id (an unknown address lists nothing)."""


def _call(api: Api, route: str, path: str, headers: dict[str, str], kwargs: dict[str, Any]) -> Any:
    method = route.split(" ", 1)[0]
    return api.client.request(method, path, headers=headers, **kwargs)


def _login_all(api: Api) -> None:
    for role, groups in CALLERS.items():
        api.login_as(role, groups)


def test_matrix_covers_exactly_the_routes_the_app_serves(tmp_path: Path) -> None:
    """Every protected route the app serves has a row in the matrix, and every row is a route
    the app serves: a new route fails here until its permission is written down."""
    routes = protected_routes(inspected_app(tmp_path))
    assert sorted(routes - set(ROUTES)) == [], "add these routes to ROUTES"
    assert sorted(set(ROUTES) - routes) == []


def test_seeded_groups_have_the_documented_permissions(api: Api) -> None:
    """Migration 0001 seeds admins (every permission), agents and readonly as documented."""
    groups = api.ok(api.get("/api/v1/groups", "readonly"))
    assert {g["name"]: frozenset(g["permissions"]) for g in groups} == GROUP_PERMISSIONS


def test_permission_matrix(api: Api) -> None:
    """For every route: 401 (with a JSON detail and a Bearer challenge) without a valid token;
    403 for a caller whose groups lack the route's permission; for a caller who has it, an
    answer that is neither 401 nor 403 (the handler ran)."""
    _login_all(api)
    problems: list[str] = []
    for n, (route, (permission, build)) in enumerate(sorted(ROUTES.items())):
        world = _world(api, n)
        for label, headers in BAD_CREDENTIALS.items():
            path, kwargs = build(world, "nobody")
            response = _call(api, route, path, headers, kwargs)
            if response.status_code != 401:
                problems.append(f"{route} with {label}: {response.status_code}, expected 401")
            elif "detail" not in response.json() or "Bearer" not in response.headers.get(
                "www-authenticate", ""
            ):
                problems.append(f"{route} with {label}: 401 without detail or challenge")
        for caller, groups in CALLERS.items():
            granted = frozenset().union(*(GROUP_PERMISSIONS[g] for g in groups))
            allowed = permission is ANYONE or permission in granted
            path, kwargs = build(world, caller)
            response = _call(api, route, path, api.headers(caller), kwargs)
            status = response.status_code
            if allowed and status in (401, 403):
                problems.append(f"{route} as {caller}: {status} {response.text}, expected access")
            if not allowed and status != 403:
                problems.append(f"{route} as {caller}: {status}, expected 403 ({permission})")
    assert problems == []


def test_ids_that_do_not_exist_answer_404(api: Api) -> None:
    """Every route with an id in its path answers 404 (not 403, not 422) when the object does
    not exist, for each seeded group that may call the route."""
    _login_all(api)
    missing = World(
        MISSING,
        MISSING,
        "TKT-19990101-999",
        MISSING,
        MISSING,
        MISSING,
        MISSING,
        MISSING,
        MISSING,
        {},
    )
    real = _world(api, 0)
    problems: list[str] = []
    for route, (permission, build) in sorted(ROUTES.items()):
        if "{" not in route or route in NOT_ID_ROUTES:
            continue
        for caller in ("readonly", "agents", "admins"):
            if permission is not ANYONE and permission not in GROUP_PERMISSIONS[caller]:
                continue
            path, kwargs = build(missing, caller)
            if route.endswith("/merge"):
                kwargs = {"json": {"target_id": real.other_ticket_id}}
            response = _call(api, route, path, api.headers(caller), kwargs)
            if response.status_code != 404:
                problems.append(f"{route} as {caller}: {response.status_code}, expected 404")
    merge = api.post(f"/api/v1/tickets/{real.ticket_id}/merge", json={"target_id": MISSING})
    if merge.status_code != 404:
        problems.append(f"merge into a missing target: {merge.status_code}, expected 404")
    assert problems == []
