"""Tickets through the REST API: the contract's shapes, the status state machine, merge and
soft delete."""

from __future__ import annotations

from collections import deque
from typing import Any

import sqlalchemy as sa

from hubdesk.tickets import service
from hubdesk.tickets.models import Ticket
from tests.support.api import Api

TICKET_KEYS = {
    "id",
    "ticket_number",
    "subject",
    "description",
    "status",
    "priority",
    "customer_id",
    "contact_id",
    "assigned_to_user_id",
    "tags",
    "custom_fields",
    "source",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "merged_into_id",
    "version",
    "sla",  # issue 12: {policy_id, *_due_at, state}
    "snoozed_until",  # issue 12: hidden from the default open list until then
    "team_id",  # issue 12: the team whose queues show it (docs/teams.md)
    "linked_tickets",  # issue 12: the same email's other teams' tickets, split links
}
LIST_KEYS = {"items", "total", "limit", "offset", "total_is_lower_bound"}
OPEN_STATES = ("open", "in_progress", "waiting_customer", "waiting_internal")
STATUSES = (*OPEN_STATES, "resolved", "closed")
# The state machine as the issue states it: open <-> in_progress <-> waiting_customer |
# waiting_internal (each also directly to and from open), any open state -> resolved ->
# closed, resolved | closed -> open.
ALLOWED: dict[str, set[str]] = {
    "open": {"in_progress", "waiting_customer", "waiting_internal", "resolved"},
    "in_progress": {"open", "waiting_customer", "waiting_internal", "resolved"},
    "waiting_customer": {"open", "in_progress", "resolved"},
    "waiting_internal": {"open", "in_progress", "resolved"},
    "resolved": {"closed", "open"},
    "closed": {"open"},
}


def _create(api: Api, **body: Any) -> dict[str, Any]:
    return dict(api.ok(api.post("/api/v1/tickets", json={"subject": "Printer", **body}), 201))


def _path_to(status: str) -> list[str]:
    """The shortest chain of allowed moves from open to `status`."""
    queue: deque[list[str]] = deque([["open"]])
    while queue:
        chain = queue.popleft()
        if chain[-1] == status:
            return chain[1:]
        queue.extend([*chain, nxt] for nxt in sorted(ALLOWED[chain[-1]]) if nxt not in chain)
    raise AssertionError(status)


def test_ticket_has_exactly_the_contract_fields(api: Api) -> None:
    """POST answers 201 with exactly the contract's ticket keys and sensible defaults; GET by
    id and by number, and the list envelope, carry the same shape."""
    created = api.post(
        "/api/v1/tickets",
        json={
            "subject": "Printer\r\nBcc: evil@example.com",
            "description": "Line 1\r\nLine 2",
            "tags": ["#Billing", "billing", "VIP"],
            "custom_fields": {"asset": "PRN-7", "floor": 2},
        },
    )
    assert created.status_code == 201
    ticket = created.json()
    assert set(ticket) == TICKET_KEYS
    assert ticket["subject"] == "Printer Bcc: evil@example.com"
    assert ticket["description"] == "Line 1\nLine 2"
    assert (ticket["status"], ticket["priority"], ticket["source"]) == ("open", "normal", "api")
    assert ticket["tags"] == ["billing", "vip"]
    assert ticket["custom_fields"] == {"asset": "PRN-7", "floor": 2}
    assert ticket["resolved_at"] is ticket["closed_at"] is ticket["merged_into_id"] is None
    assert api.ok(api.get(f"/api/v1/tickets/{ticket['id']}")) == ticket
    assert api.ok(api.get(f"/api/v1/tickets/by-number/{ticket['ticket_number']}")) == ticket
    listed = api.ok(api.get("/api/v1/tickets"))
    assert set(listed) == LIST_KEYS
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)
    assert listed["items"] == [ticket]


def test_ticket_input_errors_answer_422_saying_what_to_fix(api: Api) -> None:
    """Unknown body keys, bad statuses and priorities, too many or malformed tags, and
    references to objects that do not exist answer 422 with a JSON detail naming the problem."""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"subject": "x", "colour": "red"}, "colour"),
        ({"subject": "x", "status": "resolved"}, "status"),
        ({"subject": "x", "priority": "urgent"}, "priority"),
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x", "tags": [f"t{i}" for i in range(11)]}, "at most 10 tags"),
        ({"subject": "x", "tags": ["no spaces"]}, "tag"),
        ({"subject": "x", "customer_id": 424242}, "customer 424242"),
        ({"subject": "x", "customer_id": True}, "not true or false"),  # once stored as 1
        ({"subject": "x", "assigned_to_user_id": 424242}, "user 424242"),
        ({"description": "no subject"}, "subject"),
    ]
    for body, needle in cases:
        response = api.post("/api/v1/tickets", json=body)
        assert response.status_code == 422, body
        assert needle in response.json()["detail"], (body, response.json())
    ticket = _create(api)
    response = api.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "done"})
    assert response.status_code == 422
    assert "status" in response.json()["detail"]
    response = api.patch(f"/api/v1/tickets/{ticket['id']}", json={"ticket_number": "TKT-1"})
    assert response.status_code == 422
    assert "ticket_number" in response.json()["detail"]
    assert api.get("/api/v1/tickets", params={"limit": 201}).status_code == 422
    assert api.get("/api/v1/tickets/not-a-number").status_code == 422


def test_every_status_pair_through_the_api(api: Api) -> None:
    """All 36 (from, to) pairs through PATCH: allowed moves answer 200 and keep resolved_at
    and closed_at right (set on resolve/close, cleared on reopen); any other move answers 422
    naming the statuses allowed from there and changes nothing."""
    problems: list[str] = []
    for start in STATUSES:
        for target in STATUSES:
            ticket = _create(api, subject=f"{start} -> {target}")
            url = f"/api/v1/tickets/{ticket['id']}"
            for step in _path_to(start):
                api.ok(api.patch(url, json={"status": step}))
            before = api.ok(api.get(url))
            response = api.patch(url, json={"status": target})
            after = api.ok(api.get(url))
            label = f"{start} -> {target}"
            if target == start or target in ALLOWED[start]:
                if response.status_code != 200 or after["status"] != target:
                    problems.append(f"{label}: {response.status_code} {response.text}")
                    continue
                resolved, closed = after["resolved_at"], after["closed_at"]
                if target == start and after != before:
                    problems.append(f"{label}: a no-op changed the ticket")
                elif target in OPEN_STATES and (resolved or closed):
                    problems.append(f"{label}: reopened but resolved/closed_at kept")
                elif target == "resolved" and not (resolved and closed is None):
                    problems.append(
                        f"{label}: resolved but resolved_at={resolved} closed_at={closed}"
                    )
                elif target == "closed" and not (resolved and closed):
                    problems.append(
                        f"{label}: closed but resolved_at={resolved} closed_at={closed}"
                    )
            else:
                detail = response.json().get("detail", "")
                if response.status_code != 422 or after != before:
                    problems.append(f"{label}: {response.status_code}, expected 422, unchanged")
                elif not all(name in detail for name in ALLOWED[start]):
                    problems.append(f"{label}: {detail!r} does not name {sorted(ALLOWED[start])}")
    assert problems == []


def test_first_public_reply_by_a_user_sets_first_response(api: Api) -> None:
    """An internal note leaves first_response_at empty; the first public comment by a user
    sets it and later comments keep it. Comments list oldest first."""
    ticket = _create(api)
    url = f"/api/v1/tickets/{ticket['id']}"
    api.ok(api.post(url + "/comments", "agents", json={"body": "note", "internal": True}), 201)
    assert api.ok(api.get(url))["first_response_at"] is None
    first = api.ok(api.post(url + "/comments", "agents", json={"body": "Hej\r\nVi kigger"}), 201)
    assert first["body"] == "Hej\nVi kigger"
    responded = api.ok(api.get(url))["first_response_at"]
    assert responded is not None
    api.ok(api.post(url + "/comments", json={"body": "Again"}), 201)
    assert api.ok(api.get(url))["first_response_at"] == responded
    comments = api.ok(api.get(url + "/comments", "readonly"))
    assert [c["body"] for c in comments["items"]] == ["note", "Hej\nVi kigger", "Again"]
    assert [c["is_internal"] for c in comments["items"]] == [True, False, False]
    assert api.post(url + "/comments", json={"body": " \n "}).status_code == 422


def test_merge_moves_tags_and_participants_and_closes_the_source(api: Api) -> None:
    """Merging closes the source with merged_into_id, moves its tags and participants to the
    target, and leaves a note on both; the merged ticket can no longer be edited or merged."""
    source = _create(api, subject="Dup", tags=["printer", "urgent"])
    target = _create(api, subject="Original", tags=["printer"])
    with api.runtime.db.transaction() as session:
        for ticket_id, email in ((source["id"], "Kunde@Example.com"), (target["id"], "it@x.dk")):
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            service.add_participant(session, ticket, email, "cc")
    answer = api.ok(
        api.post(f"/api/v1/tickets/{source['id']}/merge", json={"target_id": target["id"]})
    )
    assert answer["id"] == target["id"]
    assert answer["tags"] == ["printer", "urgent"]
    merged = api.ok(api.get(f"/api/v1/tickets/{source['id']}"))
    assert (merged["status"], merged["merged_into_id"]) == ("closed", target["id"])
    assert merged["closed_at"] is not None
    with api.runtime.db.engine.connect() as connection:
        participants = (
            connection.execute(
                sa.text(
                    "SELECT email FROM tticket_participants WHERE ticket_id = :t ORDER BY email"
                ),
                {"t": target["id"]},
            )
            .scalars()
            .all()
        )
    assert participants == ["it@x.dk", "kunde@example.com"]
    notes = api.ok(api.get(f"/api/v1/tickets/{target['id']}/comments"))["items"]
    assert any(source["ticket_number"] in n["body"] and n["is_internal"] for n in notes)
    edit = api.patch(f"/api/v1/tickets/{source['id']}", json={"subject": "Changed"})
    assert edit.status_code == 422
    assert "merged" in edit.json()["detail"]
    again = api.post(f"/api/v1/tickets/{source['id']}/merge", json={"target_id": target["id"]})
    assert again.status_code == 422
    third = _create(api)
    into_merged = api.post(f"/api/v1/tickets/{third['id']}/merge", json={"target_id": source["id"]})
    assert into_merged.status_code == 422


def test_merge_into_itself_is_refused(api: Api) -> None:
    """A ticket cannot be merged into itself (422) and stays as it was."""
    ticket = _create(api)
    response = api.post(f"/api/v1/tickets/{ticket['id']}/merge", json={"target_id": ticket["id"]})
    assert response.status_code == 422
    assert "itself" in response.json()["detail"]
    assert api.ok(api.get(f"/api/v1/tickets/{ticket['id']}")) == ticket


def test_deleted_ticket_is_404_everywhere_but_kept_in_the_database(api: Api) -> None:
    """After DELETE (204) the ticket answers 404 on every route, is missing from lists and
    search, cannot be a merge target, and is still in the database with deleted_at set."""
    ticket = _create(api, subject="Vanishing printer")
    keep = _create(api, subject="Staying printer")
    url = f"/api/v1/tickets/{ticket['id']}"
    api.ok(api.delete(url), 204)
    for response in (
        api.get(url),
        api.patch(url, json={"priority": "high"}),
        api.delete(url),
        api.get(url + "/comments"),
        api.post(url + "/comments", json={"body": "hello?"}),
        api.get(url + "/audit"),
        api.get(url + "/worklogs"),
        api.post(url + "/worklogs", json={"minutes": 5}),
        api.get(url + "/worklogs/totals"),
        api.post(url + "/merge", json={"target_id": keep["id"]}),
        api.post(f"/api/v1/tickets/{keep['id']}/merge", json={"target_id": ticket["id"]}),
        api.get(f"/api/v1/tickets/by-number/{ticket['ticket_number']}"),
    ):
        assert response.status_code == 404, (response.request.url, response.text)
        assert "detail" in response.json()
    listed = api.ok(api.get("/api/v1/tickets"))
    assert [t["id"] for t in listed["items"]] == [keep["id"]]
    assert api.ok(api.get("/api/v1/tickets", params={"q": "printer"}))["total"] == 1
    with api.runtime.db.engine.connect() as connection:
        deleted_at = connection.execute(
            sa.text("SELECT deleted_at FROM tticket_tickets WHERE id = :t"), {"t": ticket["id"]}
        ).scalar_one()
    assert deleted_at is not None


def test_assignment_needs_an_active_user(api: Api) -> None:
    """A ticket can be assigned to an active user and unassigned with null; an inactive
    user cannot be assigned (422)."""
    api.login_as("agents")
    agent_id = api.user_ids["agents"]
    ticket = _create(api)
    url = f"/api/v1/tickets/{ticket['id']}"
    assert (
        api.ok(api.patch(url, json={"assigned_to_user_id": agent_id}))["assigned_to_user_id"]
        == agent_id
    )
    assert api.ok(api.patch(url, json={"assigned_to_user_id": None}))["assigned_to_user_id"] is None
    api.ok(api.patch(f"/api/v1/users/{agent_id}", json={"active": False}))
    refused = api.patch(url, json={"assigned_to_user_id": agent_id})
    assert refused.status_code == 422
    assert f"user {agent_id}" in refused.json()["detail"]


def test_a_ticket_contact_must_belong_to_the_tickets_customer(api: Api) -> None:
    """Replies go to the ticket's contact, so another customer's contact is refused with 422
    on create and on update (as a prepaid card of another customer is) and nothing changes;
    the customer's own contact, or one of no customer, is taken."""
    acme = api.ok(api.post("/api/v1/customers", json={"name": "Acme"}), 201)
    other = api.ok(api.post("/api/v1/customers", json={"name": "Other"}), 201)

    def contact(email: str, customer_id: int | None) -> int:
        body = {"email": email, "customer_id": customer_id}
        return int(api.ok(api.post("/api/v1/contacts", json=body), 201)["id"])

    mine, theirs, loose = (
        contact("a@acme.example", acme["id"]),
        contact("b@other.example", other["id"]),
        contact("c@free.example", None),
    )
    refused = api.post(
        "/api/v1/tickets", json={"subject": "x", "customer_id": acme["id"], "contact_id": theirs}
    )
    assert refused.status_code == 422
    assert f"contact {theirs} belongs to customer {other['id']}" in refused.json()["detail"]
    assert api.ok(api.get("/api/v1/tickets"))["total"] == 0
    no_customer = api.post("/api/v1/tickets", json={"subject": "x", "contact_id": theirs})
    assert no_customer.status_code == 422
    ticket = _create(api, customer_id=acme["id"], contact_id=mine)
    url = f"/api/v1/tickets/{ticket['id']}"
    response = api.patch(url, json={"contact_id": theirs})
    assert response.status_code == 422
    assert "choose a contact of the ticket's customer" in response.json()["detail"]
    assert api.ok(api.get(url))["contact_id"] == mine
    assert api.ok(api.patch(url, json={"contact_id": loose}))["contact_id"] == loose
    moved = api.ok(api.patch(url, json={"customer_id": other["id"], "contact_id": theirs}))
    assert (moved["customer_id"], moved["contact_id"]) == (other["id"], theirs)
