"""Quarantined mail by hand: headers decoded, dismiss and restore (audited), a ticket made
by hand that keeps the mail, once even when asked twice (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.errors import ValidationFailed
from hubdesk.inbound import quarantine
from hubdesk.inbound import service as inbound
from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Attachment, Ticket
from hubdesk.users.permissions import SYSTEM
from tests.support.api import Api
from tests.support.mail import raw_mail

NO_SENDER = (
    b"To: support@support.example.com\r\n"
    b"Subject: =?utf-8?q?K=C3=A6re_support=2C_hj=C3=A6lp?=\r\n"
    b"Message-ID: <nosender@example.com>\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n"
    b"<p>Hej</p><script>window.__pwned = 1</script>" + b"x" * 3000 + b"\r\n"
)


def quarantined(runtime: Runtime, raw: bytes = NO_SENDER) -> int:
    """`raw` ingested under a 1 KiB size limit: quarantined for its size."""
    strict = Runtime.build(runtime.settings.model_copy(update={"mail_max_message_bytes": 1024}))
    try:
        outcome = ingest(strict, raw, source="test")
    finally:
        strict.close()
    assert outcome.status == "quarantined"
    assert outcome.inbound_id is not None
    return outcome.inbound_id


def test_headers_dismiss_restore_and_the_count(runtime: Runtime) -> None:
    inbound_id = quarantined(runtime)
    with runtime.db.transaction() as session:
        row = inbound.get(session, inbound_id)
        headers = dict(quarantine.readable_headers(inbound.raw_bytes(runtime.blobs, row)))
        assert headers["Subject"] == "Kære support, hjælp"
        assert "From" not in headers
        assert quarantine.count_waiting(session) == 1
        assert quarantine.dismiss(session, SYSTEM, row, "test mail") is True
        assert quarantine.dismiss(session, SYSTEM, row) is False
        assert quarantine.count_waiting(session) == 0
        hidden = quarantine.list_quarantined(session, SYSTEM, dismissed=True, limit=10, offset=0)
        assert [r.id for r in hidden.items] == [inbound_id]
        shown = quarantine.list_quarantined(session, SYSTEM, dismissed=False, limit=10, offset=0)
        assert shown.total == 0
        assert quarantine.restore(session, SYSTEM, row) is True
        assert quarantine.count_waiting(session) == 1
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "inbound_message")
        ).all()
        assert actions[-2:] == ["quarantine_dismissed", "quarantine_restored"]


def test_a_ticket_by_hand_needs_a_sender_and_is_made_once(runtime: Runtime) -> None:
    inbound_id = quarantined(runtime)
    with runtime.db.transaction() as session, pytest.raises(ValidationFailed, match="sender"):
        quarantine.make_ticket(session, runtime, SYSTEM, inbound_id)
    with runtime.db.transaction() as session:
        made = quarantine.make_ticket(
            session, runtime, SYSTEM, inbound_id, sender=" Kunde@Example.COM "
        )
        assert made.created
        ticket_id = made.ticket.id
    with runtime.db.transaction() as session:
        again = quarantine.make_ticket(session, runtime, SYSTEM, inbound_id, sender="x@y.dk")
        assert not again.created
        assert again.ticket.id == ticket_id
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.subject == "Kære support, hjælp"
        assert ticket.custom_fields["email_from"] == "kunde@example.com"
        files = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id)).all()
        assert [(f.filename, f.size) for f in files] == [
            (f"inbound-{inbound_id}.eml", len(NO_SENDER))
        ]
        row = inbound.get(session, inbound_id)
        assert (row.status, row.ticket_id) == ("processed", ticket_id)
        assert row.reason.startswith("manual_ticket:")
        assert session.scalars(select(Ticket)).all() == [ticket]


def test_the_api_dismisses_restores_and_answers_each_refusal(api: Api) -> None:
    """`POST`/`DELETE /api/v1/inbound/{id}/dismissal`, through the service the admin page
    uses: idempotent, audited, 403 without `inbound.reprocess`, 404 for no such mail, 409
    for mail that is not quarantined."""
    inbound_id = quarantined(api.runtime)
    url = f"/api/v1/inbound/{inbound_id}/dismissal"
    api.login_as("agents")
    assert api.post(url, "agents", json={}).status_code == 403
    first = api.ok(api.post(url, json={"note": "a test mail"}))
    assert first["dismissed"] is True
    assert first["changed"] is True
    assert first["note"] == "a test mail"
    again = api.ok(api.post(url, json={}))
    assert (again["dismissed"], again["changed"]) == (True, False)
    with api.runtime.db.transaction(write=False) as session:
        assert quarantine.count_waiting(session) == 0
    back = api.ok(api.delete(url))
    assert (back["dismissed"], back["changed"], back["dismissed_at"]) == (False, True, None)
    assert api.ok(api.delete(url))["changed"] is False
    assert api.post("/api/v1/inbound/999999/dismissal", json={}).status_code == 404
    # Without the permission no id is looked up: the same 403 for mail that is not there.
    assert api.post("/api/v1/inbound/999999/dismissal", "agents", json={}).status_code == 403
    assert api.delete("/api/v1/inbound/999999/dismissal", "agents").status_code == 403
    assert api.post(url, json={"note": "x", "extra": 1}).status_code == 422
    delivered = ingest(api.runtime, raw_mail(subject="Fine mail"), source="test")
    refused = api.post(f"/api/v1/inbound/{delivered.inbound_id}/dismissal", json={})
    assert refused.status_code == 409
    assert "not quarantined" in refused.json()["detail"]
    with api.runtime.db.transaction(write=False) as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "inbound_message", AuditEntry.entity_id == inbound_id)
            .order_by(AuditEntry.id)
        ).all()
    assert actions[1:] == ["quarantine_dismissed", "quarantine_restored"]


def test_the_api_makes_a_ticket_once_and_asks_for_a_missing_sender(api: Api) -> None:
    inbound_id = quarantined(api.runtime)
    url = f"/api/v1/inbound/{inbound_id}/ticket"
    api.login_as("agents")
    assert api.post(url, "agents", json={"sender": "kunde@example.com"}).status_code == 403
    missing = api.post(url, json={})
    assert missing.status_code == 422
    assert "sender" in missing.json()["detail"]
    assert api.post(url, json={"sender": "not an address"}).status_code == 422
    assert api.post(url, json={"sender": "k@example.com", "customer_id": 999999}).status_code == 404
    made = api.ok(api.post(url, json={"sender": "Kunde@Example.com"}), 201)
    assert made["created"] is True
    assert made["ticket_number"].startswith("TKT-")
    again = api.ok(api.post(url, json={"sender": "other@example.com"}), 200)
    assert (again["ticket_id"], again["created"]) == (made["ticket_id"], False)
    ticket = api.ok(api.get(f"/api/v1/tickets/{made['ticket_id']}"))
    assert ticket["subject"] == "Kære support, hjælp"
    assert ticket["custom_fields"]["email_from"] == "kunde@example.com"
    delivered = ingest(api.runtime, raw_mail(subject="Fine mail"), source="test")
    # A mail that already became a ticket the usual way answers with that ticket.
    known = api.ok(api.post(f"/api/v1/inbound/{delivered.inbound_id}/ticket", json={}), 200)
    assert (known["ticket_id"], known["created"]) == (delivered.ticket_id, False)
    spec = api.client.get("/openapi.json").json()["paths"]
    for path, method in (
        ("/api/v1/inbound/{inbound_id}/ticket", "post"),
        ("/api/v1/inbound/{inbound_id}/dismissal", "post"),
        ("/api/v1/inbound/{inbound_id}/dismissal", "delete"),
    ):
        declared = spec[path][method]["responses"]
        assert {"401", "403", "404", "409", "422"} <= set(declared), (path, method)
        assert declared["409"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
