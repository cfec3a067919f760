"""The audit log: every write through the API leaves a row with the right action and
`{field: [old, new]}` changes in the same transaction, and the log is append-only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from hubdesk.audit.models import AuditEntry
from hubdesk.canned import service as canned
from hubdesk.db.types import utcnow
from hubdesk.db.uow import Database
from hubdesk.inbound.models import InboundMessage, QuarantineDismissal
from hubdesk.intake import pipeline
from hubdesk.tickets.models import Ticket
from hubdesk.users import service as users
from hubdesk.users.permissions import SYSTEM
from tests.support import factories
from tests.support.api import Api
from tests.support.mail import deeply_nested, raw_mail
from tests.support.routes import inspected_app, write_routes
from tests.support.sla import policy as sla_policy
from tests.support.sla import policy_body as sla_policy_body

ANY = object()
"""In an expected change, a value the test does not pin down (ids, timestamps)."""


@dataclass(frozen=True)
class Expected:
    entity_type: str
    entity_id: Any
    action: str
    changes: dict[str, list[Any]]
    ticket_id: int | None = None
    actor: str | None = None
    """When set, the row's actor label (mail-driven writes act as `email:<sender>`, the
    pipeline as `system`); when None, the calling user."""


@dataclass
class World:
    """Objects the write cases act on, made through the services."""

    ticket_id: int
    other_ticket_id: int
    customer_id: int
    contact_id: int
    card_id: int
    worklog_id: int
    user_id: int
    token_id: int
    domain: str
    inbound_id: int
    workflow_id: int
    execution_id: int
    held_outbox_id: int
    flagged: str
    mailbox_id: int
    sla_policy_id: int
    canned_id: int


def _world(api: Api, n: int) -> World:
    domain = f"acme{n}.dk"
    quarantined = pipeline.ingest(api.runtime, deeply_nested(60, tag=f"audit{n}"), source="t")
    delivered = pipeline.ingest(api.runtime, raw_mail(subject=f"Faktura {n}"), source="t")
    assert quarantined.inbound_id is not None
    with api.runtime.db.transaction() as session:
        customer = factories.customer(session, domains=[domain])
        contact = factories.contact(session, f"bob@{domain}", customer.id)
        ticket = factories.ticket(session, customer_id=customer.id)
        other = factories.ticket(session, "Other", customer_id=customer.id)
        card = factories.card(session, customer.id, "2")
        worklog = factories.worklog(session, ticket, 30, billing="prepaid", prepaid_card_id=card.id)
        user = users.create_user(
            session,
            SYSTEM,
            email=f"eve{n}@agents.example.com",
            name="Eve",
            password=None,
            groups=["readonly"],
        )
        token, _secret = users.create_token(session, SYSTEM, user)
        ticket.contact_id = contact.id
        session.execute(
            sa.update(InboundMessage)
            .where(InboundMessage.id == delivered.inbound_id)
            .values(queue="triage", ticket_id=None)
        )
        steps = [
            {"action": "link_email_to_ticket", "params": {"ticket_number": "TKT-20990101-999"}}
        ]
        execution = factories.failed_run(session, f"audit {n}", delivered.inbound_id, steps)
        flagged = f"flag{n}@{domain}"
        held = factories.held_reply(session, api.runtime, ticket, flagged)
        mailbox = factories.mailbox(session, f"audit-{n}", f"box{n}@support.example.com")
        policy = sla_policy(session, f"audit {n}", default=False)
        shared = canned.create_response(
            session, SYSTEM, title=f"Hi {domain}", body="Hello", shared=True
        )
        return World(
            ticket.id,
            other.id,
            customer.id,
            contact.id,
            card.id,
            worklog.id,
            user.id,
            token.id,
            domain,
            quarantined.inbound_id,
            execution.workflow_id or 0,
            execution.id,
            held.id,
            flagged,
            mailbox.id,
            policy.id,
            shared.id,
        )


Case = Callable[[Api, World], list[Expected]]


def _create_ticket(api: Api, w: World) -> list[Expected]:
    body = {"subject": "New one", "priority": "high", "tags": ["#Billing"]}
    t = api.ok(api.post("/api/v1/tickets", json=body), 201)
    changes = {
        "ticket_number": [None, t["ticket_number"]],
        "subject": [None, "New one"],
        "priority": [None, "high"],
        "tags": [None, ["billing"]],
        "status": [None, "open"],
    }
    return [Expected("ticket", t["id"], "created", changes, t["id"])]


def _update_ticket(api: Api, w: World) -> list[Expected]:
    body = {"priority": "critical", "status": "in_progress", "tags": ["vip"]}
    api.ok(api.patch(f"/api/v1/tickets/{w.ticket_id}", json=body))
    changes = {
        "priority": ["normal", "critical"],
        "status": ["open", "in_progress"],
        "tags": [[], ["vip"]],
    }
    return [Expected("ticket", w.ticket_id, "updated", changes, w.ticket_id)]


def _delete_ticket(api: Api, w: World) -> list[Expected]:
    api.ok(api.delete(f"/api/v1/tickets/{w.other_ticket_id}"), 204)
    return [Expected("ticket", w.other_ticket_id, "deleted", {"deleted_at": [None, ANY]})]


def _merge_ticket(api: Api, w: World) -> list[Expected]:
    url = f"/api/v1/tickets/{w.other_ticket_id}/merge"
    api.ok(api.post(url, json={"target_id": w.ticket_id}))
    return [
        Expected(
            "ticket",
            w.other_ticket_id,
            "merged_into",
            {"status": ["open", "closed"], "merged_into_id": [None, w.ticket_id]},
            w.other_ticket_id,
        ),
        Expected("ticket", w.ticket_id, "merged_from", {"merge": [None, ANY]}, w.ticket_id),
    ]


def _add_comment(api: Api, w: World) -> list[Expected]:
    url = f"/api/v1/tickets/{w.ticket_id}/comments"
    c = api.ok(api.post(url, json={"body": "Hej", "internal": True}), 201)
    changes = {"is_internal": [None, True], "length": [None, 3]}
    return [Expected("comment", c["id"], "comment_added", changes, w.ticket_id)]


def _create_worklog(api: Api, w: World) -> list[Expected]:
    body = {"minutes": 15, "billing": "invoice", "invoice_reference": "INV-7"}
    wl = api.ok(api.post(f"/api/v1/tickets/{w.ticket_id}/worklogs", json=body), 201)
    changes = {
        "minutes": [None, 15],
        "billing": [None, "invoice"],
        "invoice_reference": [None, "INV-7"],
    }
    return [Expected("worklog", wl["id"], "created", changes, w.ticket_id)]


def _delete_worklog(api: Api, w: World) -> list[Expected]:
    api.ok(api.delete(f"/api/v1/tickets/{w.ticket_id}/worklogs/{w.worklog_id}"), 204)
    changes = {"minutes": [30, None], "prepaid_card_id": [w.card_id, None]}
    return [Expected("worklog", w.worklog_id, "deleted", changes, w.ticket_id)]


def _create_customer(api: Api, w: World) -> list[Expected]:
    body = {"name": "Beta ApS", "domains": ["Beta-" + w.domain.upper()]}
    c = api.ok(api.post("/api/v1/customers", json=body), 201)
    changes = {"name": [None, "Beta ApS"], "domains": [None, ["beta-" + w.domain]]}
    return [Expected("customer", c["id"], "created", changes)]


def _update_customer(api: Api, w: World) -> list[Expected]:
    body = {"name": "Acme Holding A/S", "domains": [w.domain, "a-" + w.domain]}
    api.ok(api.patch(f"/api/v1/customers/{w.customer_id}", json=body))
    changes = {
        "name": ["Acme A/S", "Acme Holding A/S"],
        "domains": [[w.domain], ["a-" + w.domain, w.domain]],
    }
    return [Expected("customer", w.customer_id, "updated", changes)]


def _create_contact(api: Api, w: World) -> list[Expected]:
    body = {"email": f"Alice@{w.domain.upper()}", "name": "Alice", "customer_id": w.customer_id}
    c = api.ok(api.post("/api/v1/contacts", json=body), 201)
    changes = {"email": [None, f"alice@{w.domain}"], "customer_id": [None, w.customer_id]}
    return [Expected("contact", c["id"], "created", changes)]


def _update_contact(api: Api, w: World) -> list[Expected]:
    api.ok(
        api.patch(f"/api/v1/contacts/{w.contact_id}", json={"name": "Bob B", "customer_id": None})
    )
    changes = {"name": ["", "Bob B"], "customer_id": [w.customer_id, None]}
    return [Expected("contact", w.contact_id, "updated", changes)]


def _create_card(api: Api, w: World) -> list[Expected]:
    body = {"customer_id": w.customer_id, "hours_bought": "10", "price": "7500"}
    c = api.ok(api.post("/api/v1/prepaid-cards", json=body), 201)
    changes = {"customer_id": [None, w.customer_id], "hours_bought": [None, "10"]}
    return [Expected("prepaid_card", c["id"], "created", changes)]


def _cancel_card(api: Api, w: World) -> list[Expected]:
    api.ok(api.post(f"/api/v1/prepaid-cards/{w.card_id}/cancel"))
    return [Expected("prepaid_card", w.card_id, "cancelled", {"status": ["active", "cancelled"]})]


def _create_user(api: Api, w: World) -> list[Expected]:
    body = {"email": f"Dan@{w.domain.upper()}", "name": "Dan", "groups": ["agents"]}
    u = api.ok(api.post("/api/v1/users", json=body), 201)
    changes = {"email": [None, f"dan@{w.domain}"], "groups": [None, ["agents"]]}
    return [Expected("user", u["id"], "created", changes)]


def _create_group(api: Api, w: World) -> list[Expected]:
    body = {"name": f"Team {w.domain}", "description": "Second line"}
    group = api.ok(api.post("/api/v1/groups", json=body), 201)
    changes = {"name": [None, body["name"]], "description": [None, "Second line"]}
    return [Expected("group", group["id"], "created", changes)]


def _update_user(api: Api, w: World) -> list[Expected]:
    body = {"name": "Eve Agent", "groups": ["agents"], "active": False}
    api.ok(api.patch(f"/api/v1/users/{w.user_id}", json=body))
    changes = {
        "name": ["Eve", "Eve Agent"],
        "groups": [["readonly"], ["agents"]],
        "active": [True, False],
    }
    return [Expected("user", w.user_id, "updated", changes)]


def _create_token(api: Api, w: World) -> list[Expected]:
    t = api.ok(api.post("/api/v1/tokens", json={"name": "ci", "user_id": w.user_id}), 201)
    changes = {"name": [None, "ci"], "prefix": [None, t["token_prefix"]]}
    return [Expected("api_token", t["id"], "created", changes)]


def _unlock_user(api: Api, w: World) -> list[Expected]:
    api.ok(api.delete(f"/api/v1/users/{w.user_id}/login-lock"), 204)
    changes = {"locked_until": [None, None], "addresses": [[], []]}
    return [Expected("user", w.user_id, "login_unlocked", changes)]


def _revoke_token(api: Api, w: World) -> list[Expected]:
    api.ok(api.delete(f"/api/v1/tokens/{w.token_id}"), 204)
    return [Expected("api_token", w.token_id, "revoked", {"revoked_at": [None, ANY]})]


def _mail_case(api: Api, w: World, response: dict[str, Any], sender: str) -> list[Expected]:
    return [
        Expected("inbound_message", response["inbound_id"], "submitted", {"source": [None, ANY]}),
        Expected(
            "ticket",
            response["ticket_id"],
            "created",
            {"ticket_number": [None, response["ticket_number"]]},
            response["ticket_id"],
            actor=f"email:{sender}",
        ),
        Expected("contact", ANY, "created", {"email": [None, sender]}, actor=f"email:{sender}"),
    ]


def _email_to_ticket(api: Api, w: World) -> list[Expected]:
    sender = f"writer@{w.domain}"
    data = {"subject": "Via test endpoint", "from_address": sender, "body": "Hello"}
    response = api.ok(api.post("/api/v1/test/email-to-ticket", json={"email_data": data}))
    return _mail_case(api, w, response, sender)


def _inbound_raw(api: Api, w: World) -> list[Expected]:
    sender = f"raw@{w.domain}"
    response = api.ok(
        api.post(
            "/api/v1/inbound/raw",
            content=raw_mail(sender=sender, subject="Raw"),
            headers={"Content-Type": "message/rfc822"},
        )
    )
    return _mail_case(api, w, response, sender)


def _reprocess(api: Api, w: World) -> list[Expected]:
    api.ok(api.post(f"/api/v1/inbound/{w.inbound_id}/reprocess"))
    return [
        Expected(
            "inbound_message",
            w.inbound_id,
            "reprocess_requested",
            {"status": ["quarantined", None]},
        ),
        Expected(
            "inbound_message",
            w.inbound_id,
            "quarantined",
            {"reason": [None, "mime_depth"]},
            actor="system",
        ),
    ]


def _upload(api: Api, w: World) -> list[Expected]:
    files = {"file": ("report.txt", b"numbers", "text/plain")}
    row = api.ok(api.post(f"/api/v1/tickets/{w.ticket_id}/attachments", files=files), 201)
    changes = {"filename": [None, "report.txt"], "size": [None, 7]}
    return [Expected("attachment", row["id"], "attached", changes, w.ticket_id)]


_STEPS = [{"action": "create_ticket", "params": {}}]


def _create_workflow(api: Api, w: World) -> list[Expected]:
    body = {"name": "New flow", "classification_trigger": "invoice", "workflow_steps": _STEPS}
    row = api.ok(api.post("/api/v1/workflows", json=body), 201)
    return [Expected("workflow", row["id"], "created", {"name": [None, "New flow"]})]


def _validate_workflow(api: Api, w: World) -> list[Expected]:
    body = {"name": "Only checked", "classification_trigger": "invoice", "workflow_steps": _STEPS}
    api.ok(api.post("/api/v1/workflows/validate", json=body))
    return []


def _update_workflow(api: Api, w: World) -> list[Expected]:
    body = {"name": "Renamed flow", "classification_trigger": "invoice", "workflow_steps": _STEPS}
    api.ok(api.put(f"/api/v1/workflows/{w.workflow_id}", json=body))
    changes = {"name": [ANY, "Renamed flow"]}
    return [Expected("workflow", w.workflow_id, "updated", changes)]


def _delete_workflow(api: Api, w: World) -> list[Expected]:
    api.ok(api.delete(f"/api/v1/workflows/{w.workflow_id}"), 204)
    return [Expected("workflow", w.workflow_id, "deleted", {"name": [ANY, None]})]


def _retry_execution(api: Api, w: World) -> list[Expected]:
    """The retried workflow fails again (its ticket still does not exist): one audit row for
    the retry, and the new run is failed."""
    new = api.ok(api.post(f"/api/v1/workflow-executions/{w.execution_id}/retry"))
    assert new["status"] == "failed"
    changes = {"retry_of": [None, w.execution_id], "status": [None, "failed"]}
    return [Expected("workflow_execution", new["id"], "retried", changes)]


def _reclassify(api: Api, w: World) -> list[Expected]:
    url = f"/api/v1/inbound/{w.inbound_id}/classification"
    api.ok(api.post(url, json={"label": "invoice"}), 201)
    changes = {"classification": [ANY, "invoice"]}
    return [Expected("inbound_message", w.inbound_id, "reclassified", changes)]


def _dismiss_quarantined(api: Api, w: World) -> list[Expected]:
    url = f"/api/v1/inbound/{w.inbound_id}/dismissal"
    api.ok(api.post(url, json={"note": "junk"}))
    changes = {"dismissed": [False, True], "note": [None, "junk"]}
    return [Expected("inbound_message", w.inbound_id, "quarantine_dismissed", changes)]


def _restore_quarantined(api: Api, w: World) -> list[Expected]:
    with api.runtime.db.transaction() as session:
        session.add(QuarantineDismissal(inbound_id=w.inbound_id, dismissed_at=utcnow()))
    api.ok(api.delete(f"/api/v1/inbound/{w.inbound_id}/dismissal"))
    changes = {"dismissed": [True, False]}
    return [Expected("inbound_message", w.inbound_id, "quarantine_restored", changes)]


def _ticket_from_quarantine(api: Api, w: World) -> list[Expected]:
    url = f"/api/v1/inbound/{w.inbound_id}/ticket"
    made = api.ok(api.post(url, json={"sender": f"kunde@{w.domain}"}), 201)
    changes = {
        "status": ["quarantined", "processed"],
        "ticket_id": [None, made["ticket_id"]],
        "sender": [None, f"kunde@{w.domain}"],
    }
    return [
        Expected("inbound_message", w.inbound_id, "quarantine_ticket_made", changes),
        Expected("ticket", made["ticket_id"], "created", {}, made["ticket_id"]),
        Expected("attachment", ANY, "attached", {}, made["ticket_id"]),
        Expected("contact", ANY, "created", {"email": [None, f"kunde@{w.domain}"]}),
    ]


def _triage(api: Api, w: World) -> list[Expected]:
    with api.runtime.db.transaction() as session:
        session.execute(
            sa.update(InboundMessage)
            .where(InboundMessage.id == w.inbound_id)
            .values(queue="triage", status="processed")
        )
    api.ok(api.post(f"/api/v1/triage/{w.inbound_id}", json={"action": "dismiss"}))
    changes = {"queue": ["triage", None]}
    return [Expected("inbound_message", w.inbound_id, "triage_dismiss", changes)]


def _reply(api: Api, w: World) -> list[Expected]:
    row = api.ok(api.post(f"/api/v1/tickets/{w.ticket_id}/replies", json={"body": "Fixed."}), 201)
    return [
        Expected(
            "comment",
            row["comment"]["id"],
            "comment_added",
            {"is_internal": [None, False]},
            w.ticket_id,
        ),
        Expected(
            "outbox_message",
            row["outgoing"]["id"],
            "queued",
            {"kind": [None, "agent_reply"]},
            w.ticket_id,
        ),
    ]


def _retry_outbox(api: Api, w: World) -> list[Expected]:
    api.ok(api.post(f"/api/v1/outbox/{w.held_outbox_id}/retry"))
    changes = {"status": ["held", "pending"]}
    return [Expected("outbox_message", w.held_outbox_id, "retry_requested", changes)]


def _clear_flag(api: Api, w: World) -> list[Expected]:
    api.ok(api.delete(f"/api/v1/address-flags/{w.flagged}"), 204)
    return [Expected("address_flag", ANY, "cleared", {"email": [w.flagged, None]})]


def _template(api: Api, w: World) -> list[Expected]:
    body = {"subject": "[{ticket_number}] Modtaget", "body": "Din sag er {ticket_number}."}
    api.ok(api.put("/api/v1/templates/auto_reply/da", json=body))
    changes = {"template": [None, "auto_reply/da"], "body": [ANY, body["body"]]}
    return [Expected("mail_template", ANY, "updated", changes)]


def _create_mailbox(api: Api, w: World) -> list[Expected]:
    body = {"name": f"new-{w.domain}", "addresses": [f"help@{w.domain}"]}
    row = api.ok(api.post("/api/v1/mailboxes", json=body), 201)
    return [Expected("mailbox", row["id"], "created", {"name": [None, body["name"]]})]


def _update_mailbox(api: Api, w: World) -> list[Expected]:
    api.ok(api.patch(f"/api/v1/mailboxes/{w.mailbox_id}", json={"enabled": False}))
    return [Expected("mailbox", w.mailbox_id, "updated", {"enabled": [True, False]})]


def _delete_mailbox(api: Api, w: World) -> list[Expected]:
    api.ok(api.delete(f"/api/v1/mailboxes/{w.mailbox_id}"), 204)
    return [Expected("mailbox", w.mailbox_id, "deleted", {"name": [ANY, None]})]


def _create_sla_policy(api: Api, w: World) -> list[Expected]:
    body = sla_policy_body(f"new {w.domain}", default=False)
    row = api.ok(api.post("/api/v1/sla-policies", json=body), 201)
    return [Expected("sla_policy", row["id"], "created", {"name": [None, body["name"]]})]


def _update_sla_policy(api: Api, w: World) -> list[Expected]:
    api.ok(api.patch(f"/api/v1/sla-policies/{w.sla_policy_id}", json={"warning_percent": 70}))
    changes = {"warning_percent": [80, 70]}
    return [Expected("sla_policy", w.sla_policy_id, "updated", changes)]


def _delete_sla_policy(api: Api, w: World) -> list[Expected]:
    api.ok(api.delete(f"/api/v1/sla-policies/{w.sla_policy_id}"), 204)
    return [Expected("sla_policy", w.sla_policy_id, "deleted", {"name": [ANY, None]})]


def _create_canned(api: Api, w: World) -> list[Expected]:
    body = {"title": f"Hi {w.domain}", "body": "Hello {{contact.name}}", "shared": True}
    made = api.ok(api.post("/api/v1/canned-responses", json=body), 201)["id"]
    return [Expected("canned_response", made, "created", {"title": [None, f"Hi {w.domain}"]})]


def _update_canned(api: Api, w: World) -> list[Expected]:
    made = w.canned_id
    api.ok(api.patch(f"/api/v1/canned-responses/{made}", json={"title": "Hello"}))
    changes = {"title": [f"Hi {w.domain}", "Hello"]}
    return [Expected("canned_response", made, "updated", changes)]


def _delete_canned(api: Api, w: World) -> list[Expected]:
    made = w.canned_id
    api.ok(api.delete(f"/api/v1/canned-responses/{made}"), 204)
    return [Expected("canned_response", made, "deleted", {"title": [f"Hi {w.domain}", None]})]


def _in_a_month() -> str:
    return (utcnow() + timedelta(days=30)).replace(microsecond=0).isoformat()


def _snooze(api: Api, w: World) -> list[Expected]:
    until = _in_a_month()
    api.ok(api.put(f"/api/v1/tickets/{w.ticket_id}/snooze", json={"until": until}))
    changes = {"snoozed_until": [None, until]}
    return [Expected("ticket", w.ticket_id, "snoozed", changes, w.ticket_id)]


def _unsnooze(api: Api, w: World) -> list[Expected]:
    until = _in_a_month()
    api.ok(api.put(f"/api/v1/tickets/{w.ticket_id}/snooze", json={"until": until}))
    api.ok(api.delete(f"/api/v1/tickets/{w.ticket_id}/snooze"), 204)
    changes = {"snoozed_until": [until, None]}
    return [
        Expected("ticket", w.ticket_id, "snoozed", {"snoozed_until": [None, until]}, w.ticket_id),
        Expected("ticket", w.ticket_id, "unsnoozed", changes, w.ticket_id),
    ]


def _split(api: Api, w: World) -> list[Expected]:
    first = raw_mail(subject=f"Split {w.domain}", message_id=f"<s1@{w.domain}>")
    ticket_id = pipeline.ingest(api.runtime, first, source="t").ticket_id
    reply = raw_mail(
        subject=f"Re: Split {w.domain}",
        message_id=f"<s2@{w.domain}>",
        in_reply_to=f"<s1@{w.domain}>",
    )
    assert pipeline.ingest(api.runtime, reply, source="t").ticket_id == ticket_id
    emails = api.ok(api.get(f"/api/v1/tickets/{ticket_id}/emails"))["emails"]
    email_id = next(e["id"] for e in emails if e["email_message_id"] == f"<s2@{w.domain}>")
    url = f"/api/v1/tickets/{ticket_id}/split"
    new = api.ok(api.post(url, json={"email_ids": [email_id]}), 201)
    mail = "email:customer@example.com"
    return [
        Expected("ticket", ticket_id, "created", {"subject": [None, ANY]}, actor=mail),
        Expected("comment", ANY, "comment_added", {"is_internal": [None, False]}, actor=mail),
        Expected("ticket", ticket_id, "split_off", {"split_to": [None, new["ticket_number"]]}),
        Expected("ticket", new["id"], "created", {"subject": [None, f"Re: Split {w.domain}"]}),
        Expected("ticket", new["id"], "split_from", {"split_from": [None, ANY]}, new["id"]),
    ]


def _view(api: Api, w: World) -> tuple[int, list[Expected]]:
    name = f"View {w.domain}"
    body = {"name": name, "query": {"priority": "high"}}
    made = api.ok(api.post("/api/v1/saved-views", json=body), 201)["id"]
    return made, [Expected("saved_view", made, "saved_view_created", {"name": [None, name]})]


def _create_view(api: Api, w: World) -> list[Expected]:
    return _view(api, w)[1]


def _update_view(api: Api, w: World) -> list[Expected]:
    made, expected = _view(api, w)
    api.ok(api.patch(f"/api/v1/saved-views/{made}", json={"name": f"Renamed {w.domain}"}))
    changes = {"name": [f"View {w.domain}", f"Renamed {w.domain}"]}
    return [*expected, Expected("saved_view", made, "saved_view_changed", changes)]


def _delete_view(api: Api, w: World) -> list[Expected]:
    made, expected = _view(api, w)
    api.ok(api.delete(f"/api/v1/saved-views/{made}"), 204)
    changes = {"name": [f"View {w.domain}", None]}
    return [*expected, Expected("saved_view", made, "saved_view_deleted", changes)]


def _keyword(api: Api, w: World) -> tuple[int, str, list[Expected]]:
    word = f"matrix{w.ticket_id}"
    body = {"word": word, "level": "high", "language": "en"}
    made = api.ok(api.post("/api/v1/priority-keywords", json=body), 201)["id"]
    changes = {"word": [None, word], "level": [None, "high"], "scope": [None, "subject"]}
    return made, word, [Expected("priority_keyword", made, "priority_keyword_added", changes)]


def _add_keyword(api: Api, w: World) -> list[Expected]:
    return _keyword(api, w)[2]


def _remove_keyword(api: Api, w: World) -> list[Expected]:
    made, word, expected = _keyword(api, w)
    api.ok(api.delete(f"/api/v1/priority-keywords/{made}"), 204)
    changes = {"word": [word, None], "level": ["high", None], "scope": ["subject", None]}
    return [*expected, Expected("priority_keyword", made, "priority_keyword_removed", changes)]


WRITE_CASES: dict[str, Case] = {
    "POST /api/v1/saved-views": _create_view,
    "PATCH /api/v1/saved-views/{view_id}": _update_view,
    "DELETE /api/v1/saved-views/{view_id}": _delete_view,
    "POST /api/v1/priority-keywords": _add_keyword,
    "DELETE /api/v1/priority-keywords/{keyword_id}": _remove_keyword,
    "POST /api/v1/canned-responses": _create_canned,
    "PATCH /api/v1/canned-responses/{response_id}": _update_canned,
    "DELETE /api/v1/canned-responses/{response_id}": _delete_canned,
    "PUT /api/v1/tickets/{ticket_id}/snooze": _snooze,
    "DELETE /api/v1/tickets/{ticket_id}/snooze": _unsnooze,
    "POST /api/v1/tickets/{ticket_id}/split": _split,
    "POST /api/v1/workflows": _create_workflow,
    "POST /api/v1/workflows/validate": _validate_workflow,
    "PUT /api/v1/workflows/{workflow_id}": _update_workflow,
    "DELETE /api/v1/workflows/{workflow_id}": _delete_workflow,
    "POST /api/v1/workflow-executions/{execution_id}/retry": _retry_execution,
    "POST /api/v1/inbound/{inbound_id}/classification": _reclassify,
    "POST /api/v1/triage/{inbound_id}": _triage,
    "POST /api/v1/inbound/{inbound_id}/dismissal": _dismiss_quarantined,
    "DELETE /api/v1/inbound/{inbound_id}/dismissal": _restore_quarantined,
    "POST /api/v1/inbound/{inbound_id}/ticket": _ticket_from_quarantine,
    "POST /api/v1/tickets/{ticket_id}/replies": _reply,
    "POST /api/v1/outbox/{outbox_id}/retry": _retry_outbox,
    "DELETE /api/v1/address-flags/{email}": _clear_flag,
    "PUT /api/v1/templates/{key}/{language}": _template,
    "POST /api/v1/mailboxes": _create_mailbox,
    "PATCH /api/v1/mailboxes/{mailbox_id}": _update_mailbox,
    "DELETE /api/v1/mailboxes/{mailbox_id}": _delete_mailbox,
    "POST /api/v1/test/email-to-ticket": _email_to_ticket,
    "POST /api/v1/sla-policies": _create_sla_policy,
    "PATCH /api/v1/sla-policies/{policy_id}": _update_sla_policy,
    "DELETE /api/v1/sla-policies/{policy_id}": _delete_sla_policy,
    "POST /api/v1/inbound/raw": _inbound_raw,
    "POST /api/v1/inbound/{inbound_id}/reprocess": _reprocess,
    "POST /api/v1/tickets/{ticket_id}/attachments": _upload,
    "POST /api/v1/tickets": _create_ticket,
    "PATCH /api/v1/tickets/{ticket_id}": _update_ticket,
    "DELETE /api/v1/tickets/{ticket_id}": _delete_ticket,
    "POST /api/v1/tickets/{ticket_id}/merge": _merge_ticket,
    "POST /api/v1/tickets/{ticket_id}/comments": _add_comment,
    "POST /api/v1/tickets/{ticket_id}/worklogs": _create_worklog,
    "DELETE /api/v1/tickets/{ticket_id}/worklogs/{worklog_id}": _delete_worklog,
    "POST /api/v1/customers": _create_customer,
    "PATCH /api/v1/customers/{customer_id}": _update_customer,
    "POST /api/v1/contacts": _create_contact,
    "PATCH /api/v1/contacts/{contact_id}": _update_contact,
    "POST /api/v1/prepaid-cards": _create_card,
    "POST /api/v1/prepaid-cards/{card_id}/cancel": _cancel_card,
    "POST /api/v1/users": _create_user,
    "POST /api/v1/groups": _create_group,
    "PATCH /api/v1/users/{user_id}": _update_user,
    "DELETE /api/v1/users/{user_id}/login-lock": _unlock_user,
    "POST /api/v1/tokens": _create_token,
    "DELETE /api/v1/tokens/{token_id}": _revoke_token,
}


def _mismatches(api: Api, expected: Expected, actor_id: int, after_id: int) -> list[str]:
    """Problems with the audit rows the case wrote (rows with ids above `after_id`)."""
    with api.runtime.db.transaction(write=False) as session:
        query = select(AuditEntry).where(
            AuditEntry.id > after_id,
            AuditEntry.entity_type == expected.entity_type,
            AuditEntry.action == expected.action,
        )
        if expected.entity_id is not ANY:
            query = query.where(AuditEntry.entity_id == expected.entity_id)
        if expected.actor is not None:
            query = query.where(AuditEntry.actor == expected.actor)
        rows = session.scalars(query).all()
        found = [(r.actor_user_id, r.actor, r.ticket_id, dict(r.changes)) for r in rows]
    label = f"{expected.entity_type} {expected.entity_id} {expected.action}"
    if len(found) != 1:
        return [f"{label}: expected one audit row, found {len(found)}"]
    actor_user_id, actor, ticket_id, changes = found[0]
    problems = []
    if expected.actor is None and (actor_user_id != actor_id or not actor.startswith("user:")):
        problems.append(f"{label}: actor {actor!r} ({actor_user_id}), expected user {actor_id}")
    if expected.ticket_id is not None and ticket_id != expected.ticket_id:
        problems.append(f"{label}: ticket_id {ticket_id}, expected {expected.ticket_id}")
    for key, (old, new) in expected.changes.items():
        got = changes.get(key)
        if not isinstance(got, list) or len(got) != 2:
            problems.append(f"{label}: changes[{key!r}] is {got!r}, not [old, new]")
        elif (old is not ANY and got[0] != old) or (new is not ANY and got[1] != new):
            problems.append(f"{label}: changes[{key!r}] is {got!r}, expected {[old, new]!r}")
    return problems


def test_every_write_route_has_an_audit_case(tmp_path: Path) -> None:
    """Each write route the app serves appears in this module's table (so a new route gets an
    audit check), and the table names no route that is gone."""
    routes = write_routes(inspected_app(tmp_path))
    assert sorted(routes - set(WRITE_CASES)) == [], "add these routes to WRITE_CASES"
    assert sorted(set(WRITE_CASES) - routes) == []


def test_every_write_route_records_its_audit_rows(api: Api) -> None:
    """Each write route leaves exactly one audit row per entity it touched, with its action,
    the acting user, and `{field: [old, new]}` for what changed (fresh objects per route)."""
    api.login_as("admins")
    problems: list[str] = []
    for n, (route, case) in enumerate(WRITE_CASES.items()):
        world = _world(api, n)
        before = _audit_count(api.runtime.db)
        last_id = _last_audit_id(api.runtime.db)
        expectations = case(api, world)
        admin = api.user_ids["admins"]
        found = [p for e in expectations for p in _mismatches(api, e, admin, last_id)]
        problems.extend(f"{route}: {p}" for p in found)
        added = _audit_count(api.runtime.db) - before
        if added != len(expectations):
            problems.append(f"{route}: {added} audit rows written, expected {len(expectations)}")
    assert problems == []


def _last_audit_id(db: Database) -> int:
    with db.engine.connect() as connection:
        value = connection.exec_driver_sql("SELECT MAX(id) FROM tticket_audit_log").scalar_one()
        return int(value or 0)


def _audit_count(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(
            connection.exec_driver_sql("SELECT COUNT(*) FROM tticket_audit_log").scalar_one()
        )


def test_audit_log_refuses_update_delete_and_truncate(db: Database) -> None:
    """Plain SQL cannot change or remove audit rows: UPDATE and DELETE are refused on both
    databases, TRUNCATE on PostgreSQL (SQLite has none); the rows are still there after."""
    with db.transaction() as session:
        factories.ticket(session)
    statements = ["UPDATE tticket_audit_log SET action = 'forged'", "DELETE FROM tticket_audit_log"]
    if db.dialect == "postgresql":
        statements.append("TRUNCATE tticket_audit_log")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
            session.execute(sa.text(statement))
    with db.engine.connect() as connection:
        actions = connection.exec_driver_sql("SELECT action FROM tticket_audit_log").scalars().all()
    assert actions == ["created"]


class _Abort(Exception):
    """Raised to roll a transaction back on purpose."""


def _create_ticket_then_abort(db: Database) -> None:
    with db.transaction() as session:
        ticket = factories.ticket(session)
        rows = session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id)).all()
        assert [r.action for r in rows] == ["created"]
        raise _Abort


def test_audit_row_commits_or_rolls_back_with_the_change(db: Database) -> None:
    """The audit row is written in the caller's transaction: visible there before commit, and
    gone together with the change when the transaction rolls back."""

    with pytest.raises(_Abort):
        _create_ticket_then_abort(db)
    with db.transaction(write=False) as session:
        assert session.scalars(select(Ticket)).all() == []
        assert session.scalars(select(AuditEntry)).all() == []


def test_refused_update_changes_nothing_and_records_nothing(api: Api) -> None:
    """A PATCH that fails half-way (valid priority, forbidden status change) answers 422 and
    leaves neither the priority change nor an audit row behind."""
    t = api.ok(api.post("/api/v1/tickets", json={"subject": "Atomic"}), 201)
    refused = api.patch(f"/api/v1/tickets/{t['id']}", json={"priority": "high", "status": "closed"})
    assert refused.status_code == 422
    assert api.ok(api.get(f"/api/v1/tickets/{t['id']}"))["priority"] == "normal"
    trail = api.ok(api.get(f"/api/v1/tickets/{t['id']}/audit"))
    assert [item["action"] for item in trail["items"]] == ["created"]


def test_ticket_audit_route_lists_the_trail_oldest_first(api: Api) -> None:
    """`GET /tickets/{id}/audit` answers the list envelope of rows with id, actor, action,
    changes and created_at, oldest first, for readonly users too."""
    t = api.ok(api.post("/api/v1/tickets", json={"subject": "Trail"}), 201)
    api.ok(api.patch(f"/api/v1/tickets/{t['id']}", json={"status": "in_progress"}))
    api.ok(api.post(f"/api/v1/tickets/{t['id']}/comments", json={"body": "On it"}), 201)
    trail = api.ok(api.get(f"/api/v1/tickets/{t['id']}/audit", "readonly"))
    assert set(trail) == {"items", "total", "limit", "offset", "total_is_lower_bound"}
    assert (trail["total"], trail["offset"]) == (3, 0)
    for item in trail["items"]:
        assert {"id", "actor", "action", "changes", "created_at"} <= set(item)
        assert item["actor"] == f"user:{_email_of(api, 'admins')}"
    assert [i["action"] for i in trail["items"]] == ["created", "updated", "comment_added"]
    assert trail["items"][1]["changes"] == {"status": ["open", "in_progress"]}
    page = api.ok(api.get(f"/api/v1/tickets/{t['id']}/audit", params={"limit": 1, "offset": 2}))
    assert [i["action"] for i in page["items"]] == ["comment_added"]
    assert api.get("/api/v1/tickets/999999/audit").status_code == 404


def _email_of(api: Api, role: str) -> str:
    return str(api.ok(api.get("/api/v1/users/me", role))["email"])
