"""Agent replies over the API, agent notifications, the new-ticket throttle, and TLS to the
SMTP relay (RELIABILITY T37)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hubdesk.intake import pipeline
from hubdesk.outbox.models import OutboxMessage
from hubdesk.outbox.sender import send_due
from hubdesk.runtime import Runtime
from hubdesk.web.app import create_app
from tests.e2e.outbox.conftest import Outgoing
from tests.support.api import Api, make_user
from tests.support.mail import raw_mail
from tests.support.smtp_sink import smtp_sink
from tests.support.tls import Certificates


@pytest.fixture
def mail_api(outgoing: Outgoing) -> Iterator[Api]:
    with TestClient(create_app(outgoing.runtime.settings, runtime=outgoing.runtime)) as client:
        yield Api(client=client, runtime=outgoing.runtime)


def test_agent_reply_threads_and_is_logged(outgoing: Outgoing, mail_api: Api) -> None:
    """POST /tickets/{id}/replies makes a public comment and a mail to the contact (and Cc)
    with In-Reply-To the customer's message, References the thread, the ticket token in the
    subject and the chosen file attached; the email log shows it as outbound."""
    outcome = pipeline.ingest(
        outgoing.runtime, raw_mail(message_id="<q1@example.com>", subject="Printer jam"), source="t"
    )
    outgoing.send()
    upload = mail_api.ok(
        mail_api.post(
            f"/api/v1/tickets/{outcome.ticket_id}/attachments",
            files={"file": ("steps.txt", b"1. open tray", "text/plain")},
        ),
        201,
    )
    reply = mail_api.ok(
        mail_api.post(
            f"/api/v1/tickets/{outcome.ticket_id}/replies",
            "agents",
            json={
                "body": "Please open the tray.",
                "cc": ["boss@example.com"],
                "attachment_ids": [upload["id"]],
                "status": "waiting_customer",
            },
        ),
        201,
    )
    assert reply["comment"]["is_internal"] is False
    assert reply["outgoing"]["status"] == "pending"
    sent = outgoing.send()[-1]
    assert sorted(sent.rcpt_tos) == ["boss@example.com", "customer@example.com"]
    assert sent.header("Subject") == f"Re: [{outcome.ticket_number}] Printer jam"
    assert sent.header("In-Reply-To") == "<q1@example.com>"
    assert "<q1@example.com>" in sent.header("References")
    assert b"1. open tray" in sent.data or b"MS4gb3BlbiB0cmF5" in sent.data
    emails = mail_api.ok(mail_api.get(f"/api/v1/tickets/{outcome.ticket_id}/emails"))["emails"]
    assert [e["direction"] for e in emails] == ["inbound", "outbound", "outbound"]
    ticket = mail_api.ok(mail_api.get(f"/api/v1/tickets/{outcome.ticket_id}"))
    assert ticket["status"] == "waiting_customer"
    assert ticket["first_response_at"] is not None
    answer = pipeline.ingest(
        outgoing.runtime,
        raw_mail(in_reply_to=sent.header("Message-ID"), subject="Re: x"),
        source="t",
    )
    assert answer.ticket_id == outcome.ticket_id
    assert mail_api.ok(mail_api.get(f"/api/v1/tickets/{outcome.ticket_id}"))["status"] == "open"


def test_reply_needs_a_contact_and_the_permission(outgoing: Outgoing, mail_api: Api) -> None:
    """A ticket without a contact cannot be answered by mail (422); readonly users may not."""
    ticket = mail_api.ok(mail_api.post("/api/v1/tickets", json={"subject": "No contact"}), 201)
    assert (
        mail_api.post(f"/api/v1/tickets/{ticket['id']}/replies", json={"body": "x"}).status_code
        == 422
    )
    assert (
        mail_api.post(
            f"/api/v1/tickets/{ticket['id']}/replies", "readonly", json={"body": "x"}
        ).status_code
        == 403
    )


def test_agents_are_notified_of_assignments_and_replies(outgoing: Outgoing, mail_api: Api) -> None:
    """Assigning notifies the assignee once; a customer reply within ten minutes does not
    notify again; an agent who turned notifications off gets none."""
    agent_id, _ = make_user(outgoing.runtime, ["agents"], email="agent@support.example.com")
    outcome = pipeline.ingest(outgoing.runtime, raw_mail(message_id="<n1@example.com>"), source="t")
    mail_api.ok(
        mail_api.patch(
            f"/api/v1/tickets/{outcome.ticket_id}", json={"assigned_to_user_id": agent_id}
        )
    )
    pipeline.ingest(
        outgoing.runtime, raw_mail(in_reply_to="<n1@example.com>", subject="Re"), source="t"
    )
    sent = outgoing.send()
    to_agent = [m for m in sent if m.rcpt_tos == ["agent@support.example.com"]]
    assert len(to_agent) == 1
    assert to_agent[0].message["Auto-Submitted"] == "auto-generated"
    assert "was assigned to you" in to_agent[0].header("Subject")
    mail_api.ok(mail_api.patch(f"/api/v1/users/{agent_id}", json={"notify_by_email": False}))
    second = pipeline.ingest(outgoing.runtime, raw_mail(subject="Another"), source="t")
    mail_api.ok(
        mail_api.patch(
            f"/api/v1/tickets/{second.ticket_id}", json={"assigned_to_user_id": agent_id}
        )
    )
    assert [m for m in outgoing.send() if m.rcpt_tos == ["agent@support.example.com"]] == to_agent


def test_new_tickets_from_one_sender_are_throttled(outgoing: Outgoing) -> None:
    """Beyond TICKET_NEW_PER_SENDER_PER_HOUR new tickets, mail from the sender waits in
    triage: kept and visible, not lost."""
    strict = outgoing.with_settings(new_tickets_per_sender_per_hour=2)
    outcomes = [
        pipeline.ingest(strict.runtime, raw_mail(subject=f"n{i}"), source="t") for i in range(4)
    ]
    assert [o.status for o in outcomes] == ["created", "created", "ignored", "ignored"]
    assert outcomes[2].reason.startswith("triage: throttled: customer@example.com")


def _tls_runtime(runtime: Runtime, port: int, ca: str, security: str) -> Runtime:
    settings = runtime.settings.model_copy(
        update={
            "smtp_host": "localhost",
            "smtp_port": port,
            "smtp_security": security,
            "smtp_ca_file": ca,
            "smtp_user": "hubdesk",
            "smtp_password": "s3cret-pass",
        }
    )
    return replace(runtime, settings=settings)


def _queue_one(runtime: Runtime) -> None:
    pipeline.ingest(runtime, raw_mail(), source="t")


def test_starttls_with_the_private_ca_delivers(
    runtime: Runtime, outbox_certificates: Certificates
) -> None:
    """STARTTLS against a server whose certificate the configured CA signed works."""
    with smtp_sink(cert=outbox_certificates.cert, key=outbox_certificates.key) as (port, sink):
        secured = _tls_runtime(runtime, port, str(outbox_certificates.ca), "starttls")
        _queue_one(secured)
        send_due(secured)
        assert len(sink.received) == 1
        assert sink.logins == ["hubdesk"]


@pytest.mark.parametrize("case", ["untrusted certificate", "no STARTTLS offered"])
def test_tls_failures_refuse_and_send_no_login(
    runtime: Runtime, outbox_certificates: Certificates, case: str
) -> None:
    """A certificate from another CA, or a server without STARTTLS, is refused: nothing is
    sent, no AUTH command reaches the server, and the error is recorded on the message."""
    tls = case == "untrusted certificate"
    with smtp_sink(cert=outbox_certificates.cert, key=outbox_certificates.key, starttls=tls) as (
        port,
        sink,
    ):
        secured = _tls_runtime(runtime, port, str(outbox_certificates.rogue_ca), "starttls")
        _queue_one(secured)
        send_due(secured)
        assert sink.received == []
        assert sink.logins == []
        with secured.db.transaction(write=False) as session:
            row = session.scalars(select(OutboxMessage)).one()
            assert row.status == "pending"
            assert row.last_error
