"""`/api/v1/canned-responses`: shared and personal responses, who may change which, the
placeholders refused when unknown and filled from the ticket and the agent (both databases)."""

from __future__ import annotations

from typing import Any

from hubdesk.canned.placeholders import Facts, expand, unknown
from hubdesk.customers.models import Contact
from hubdesk.tickets.models import Ticket
from tests.support.api import Api

P = "/api/v1/canned-responses"


def _ticket(api: Api) -> Any:
    data = {
        "message_id": "<canned-1@customer.example.com>",
        "subject": "Printer broken",
        "from_address": "alice@acme.example",
        "body": "It does not print.",
    }
    result = api.ok(api.post("/api/v1/test/email-to-ticket", json={"email_data": data}))
    with api.runtime.db.transaction() as session:
        ticket = session.get(Ticket, result["ticket_id"])
        assert ticket is not None
        assert ticket.contact_id is not None
        contact = session.get(Contact, ticket.contact_id)
        assert contact is not None
        contact.name = "Alice Customer"
    return api.ok(api.get(f"/api/v1/tickets/{result['ticket_id']}"))


def test_shared_and_personal_responses_and_who_sees_them(api: Api) -> None:
    shared = api.ok(
        api.post(P, json={"title": "Thanks", "body": "Thank you!", "shared": True}), 201
    )
    assert shared["shared"] is True
    assert shared["owner_user_id"] is None
    mine = api.ok(api.post(P, "agents", json={"title": "Mine", "body": "Hi {{contact.name}}"}), 201)
    assert mine["shared"] is False
    assert mine["owner_user_id"] == api.user_ids["agents"]

    agent_sees = [r["title"] for r in api.ok(api.get(P, "agents"))["items"]]
    assert agent_sees == ["Thanks", "Mine"]
    admin_sees = [r["title"] for r in api.ok(api.get(P))["items"]]
    assert admin_sees == ["Thanks"]
    assert api.get(f"{P}/{mine['id']}").status_code == 404
    assert api.patch(f"{P}/{mine['id']}", json={"title": "X"}).status_code == 404

    refused = api.post(P, "agents", json={"title": "Shared?", "body": "x", "shared": True})
    assert refused.status_code == 403
    assert api.patch(f"{P}/{shared['id']}", "agents", json={"body": "no"}).status_code == 403
    assert api.delete(f"{P}/{shared['id']}", "agents").status_code == 403

    changed = api.ok(api.patch(f"{P}/{mine['id']}", "agents", json={"title": "Greeting"}))
    assert (changed["title"], changed["body"]) == ("Greeting", "Hi {{contact.name}}")
    api.ok(api.delete(f"{P}/{mine['id']}", "agents"), 204)
    assert [r["title"] for r in api.ok(api.get(P, "agents"))["items"]] == ["Thanks"]


def test_unknown_placeholders_and_empty_texts_are_refused_with_what_to_fix(api: Api) -> None:
    bad = api.post(P, json={"title": "T", "body": "Dear {{customer.nmae}}, {{ticket.number}}"})
    assert bad.status_code == 422
    assert "{{customer.nmae}}" in bad.json()["detail"]
    assert "{{customer.name}}" in bad.json()["detail"]
    assert api.post(P, json={"title": "   ", "body": "x"}).status_code == 422
    made = api.ok(api.post(P, json={"title": "T", "body": "ok"}), 201)
    assert api.patch(f"{P}/{made['id']}", json={"body": "{{nope}}"}).status_code == 422
    assert api.ok(api.get(f"{P}/{made['id']}"))["body"] == "ok"


def test_fill_uses_the_ticket_and_the_calling_agent(api: Api) -> None:
    ticket = _ticket(api)
    body = (
        "Dear {{ contact.first_name }}, about {{ticket.number}} ({{ticket.subject}}). "
        "{{agent.name}}"
    )
    made = api.ok(api.post(P, json={"title": "T", "body": body, "shared": True}), 201)
    filled = api.ok(api.get(f"{P}/{made['id']}/fill", "agents", params={"ticket_id": ticket["id"]}))
    number = ticket["ticket_number"]
    assert filled["text"] == f"Dear Alice, about {number} (Printer broken). Agents"
    missing = api.get(f"{P}/{made['id']}/fill", params={"ticket_id": 999999})
    assert missing.status_code == 404


def test_placeholders_pure() -> None:
    assert unknown("{{a.b}} {{ticket.number}} {{a.b}} {{}}") == ["a.b", ""]
    facts = Facts(contact_name="", ticket_number="TKT-1")
    assert expand("[{{contact.first_name}}|{{ticket.number}}|{{x}}]", facts) == "[|TKT-1|{{x}}]"
