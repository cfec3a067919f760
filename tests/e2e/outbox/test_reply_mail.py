"""An agent's reply as the customer gets it: From "Agent via <name> <our address>" with the
settings in force when it is sent (not when it was queued), the agent's signature, and the
customer's message quoted below, on both databases through a real SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hubdesk.intake import pipeline
from hubdesk.outbox.models import OutboxMessage
from hubdesk.web.app import create_app
from tests.e2e.outbox.conftest import Outgoing
from tests.support.api import Api
from tests.support.mail import raw_mail
from tests.support.signatures import use_signatures


@pytest.fixture
def mail_api(outgoing: Outgoing) -> Iterator[Api]:
    with TestClient(create_app(outgoing.runtime.settings, runtime=outgoing.runtime)) as client:
        yield Api(client=client, runtime=outgoing.runtime)


def test_reply_is_built_when_sent_with_name_signature_and_quote(
    outgoing: Outgoing, mail_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = pipeline.ingest(
        outgoing.runtime,
        raw_mail(
            message_id="<q7@example.com>",
            subject="Printer jam",
            body="The printer jams.\nOn every page.",
        ),
        source="t",
    )
    outgoing.send()
    mail_api.login_as("agents")
    agent_email = mail_api.ok(mail_api.get("/api/v1/users/me", "agents"))["email"]
    use_signatures(monkeypatch, {agent_email: "Agents\nAcme Support, +45 1234"})
    mail_api.ok(
        mail_api.post(
            f"/api/v1/tickets/{outcome.ticket_id}/replies",
            "agents",
            json={"body": "Please open the tray."},
        ),
        201,
    )
    with outgoing.runtime.db.transaction(write=False) as session:
        queued = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "agent_reply")
        ).one()
        assert b"Agents via Support <support@support.example.com>" in queued.raw

    # The settings change between queueing and sending: the mail follows the new ones.
    later = outgoing.with_settings(smtp_from="help@desk.example.org", mail_from_name="Acme Desk")
    sent = later.send()[-1]
    assert sent.header("From") == "Agents via Acme Desk <help@desk.example.org>"
    assert sent.mail_from == "help@desk.example.org"
    assert sent.header("X-Hubdesk-Loop") == "support.example.com"
    parsed = message_from_bytes(sent.data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    part = parsed.get_body(preferencelist=("plain",))
    assert part is not None
    text = part.get_content().replace("\r\n", "\n").rstrip("\n")
    reply, _, rest = text.partition("\n\n-- \n")
    assert reply == "Please open the tray."
    signature, _, quote = rest.partition("\n\n")
    assert signature == "Agents\nAcme Support, +45 1234"
    assert quote.startswith("On ")
    assert "customer@example.com wrote:\n> The printer jams.\n> On every page." in quote
    with outgoing.runtime.db.transaction(write=False) as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "agent_reply")
        ).one()
        assert row.status == "sent"
        assert b"Agents via Acme Desk <help@desk.example.org>" in row.raw
        assert row.envelope_from == "help@desk.example.org"
    emails = mail_api.ok(mail_api.get(f"/api/v1/tickets/{outcome.ticket_id}/emails"))["emails"]
    outbound = [e for e in emails if e["direction"] == "outbound"][-1]
    assert "> The printer jams." not in outbound.get("body_visible", "")


def test_automatic_mail_keeps_its_null_sender_and_plain_name(outgoing: Outgoing) -> None:
    """The auto-reply (no agent) is From the plain name, with the empty envelope sender."""
    pipeline.ingest(outgoing.runtime, raw_mail(message_id="<q8@example.com>"), source="t")
    sent = outgoing.with_settings(mail_from_name="Acme Desk").send()
    assert sent, "the auto-reply was sent"
    assert sent[-1].header("From") == "Acme Desk <support@support.example.com>"
    assert sent[-1].mail_from in ("", "<>")
