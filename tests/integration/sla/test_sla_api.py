"""The `/api/v1/sla-policies` contract and a ticket's `sla` field, through the real app on
both databases (including the spec's email-to-ticket endpoint with its `received_at`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from hubdesk.db.types import utcnow
from tests.support.api import Api
from tests.support.sla import ALWAYS_OPEN, policy_body, targets

P = "/api/v1/sla-policies"
SLA_KEYS = {
    "policy_id",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "state",
}


def _mail(api: Api, sender: str, received_at: str, subject: str = "Printer broken") -> Any:
    data = {
        "message_id": f"<{subject.replace(' ', '-')}-{received_at}@customer.example.com>",
        "subject": subject,
        "from_address": sender,
        "body": "It does not print.",
        "received_at": received_at,
    }
    result = api.ok(api.post("/api/v1/test/email-to-ticket", json={"email_data": data}))
    assert result["created"] is True, result
    return api.ok(api.get(f"/api/v1/tickets/{result['ticket_id']}"))


def test_create_read_update_delete_a_policy(api: Api) -> None:
    created = api.ok(api.post(P, json=policy_body()), 201)
    assert isinstance(created["id"], int)
    assert created["name"] == "Standard"
    assert created["default"] is True
    assert created["calendar"]["timezone"] == "Europe/Copenhagen"
    assert created["calendar"]["hours"]["mon"] == [["08:00", "16:00"]]
    assert created["calendar"]["hours"]["sun"] == []
    assert created["calendar"]["country_holidays"] == "DK"
    assert created["targets"]["normal"] == targets()
    assert api.ok(api.get(f"{P}/{created['id']}")) == created
    listed = api.ok(api.get(P))
    assert [p["id"] for p in listed["items"]] == [created["id"]]

    customer = api.ok(api.post("/api/v1/customers", json={"name": "Vip A/S"}), 201)
    changed = api.ok(
        api.patch(
            f"{P}/{created['id']}",
            json={"name": "Gold", "customer_ids": [customer["id"]], "warning_percent": 75},
        )
    )
    assert changed["name"] == "Gold"
    assert changed["customer_ids"] == [customer["id"]]
    assert changed["warning_percent"] == 75
    assert changed["targets"] == created["targets"]  # untouched fields stay

    assert api.delete(f"{P}/{created['id']}").status_code == 204
    assert api.get(f"{P}/{created['id']}").status_code == 404


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"calendar": {"timezone": "Europe/Kobenhavn", "hours": ALWAYS_OPEN}}, "time zone"),
        (
            {
                "calendar": {
                    "timezone": "UTC",
                    "hours": {"mon": [["08:00", "12:00"], ["11:00", "16:00"]]},
                }
            },
            "overlap",
        ),
        (
            {
                "calendar": {
                    "timezone": "UTC",
                    "hours": {"mon": [["12:00", "16:00"], ["08:00", "10:00"]]},
                }
            },
            "sorted",
        ),
        ({"targets": {"urgent": targets()}}, "unknown priority urgent"),
        ({"customer_ids": [999999]}, "customer 999999 does not exist"),
        (
            {"calendar": {"timezone": "UTC", "hours": ALWAYS_OPEN, "country_holidays": "ZZ"}},
            "country",
        ),
    ],
)
def test_bad_policies_are_422_saying_what_to_fix(
    api: Api, change: dict[str, Any], words: str
) -> None:
    response = api.post(P, json={**policy_body(), **change})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert words in detail, detail


def test_a_second_default_policy_is_refused(api: Api) -> None:
    api.ok(api.post(P, json=policy_body("First")), 201)
    response = api.post(P, json=policy_body("Second"))
    assert response.status_code == 422
    assert "already the default" in response.json()["detail"]
    other = api.ok(api.post(P, json=policy_body("Second", default=False)), 201)
    assert api.patch(f"{P}/{other['id']}", json={"default": True}).status_code == 422


def test_policies_need_sla_manage(api: Api) -> None:
    assert api.post(P, "agents", json=policy_body()).status_code == 403
    assert api.get(P, "agents").status_code == 403


def test_email_to_ticket_due_times_from_received_at(api: Api) -> None:
    """The issue's example: a mail received on a Friday afternoon before the DST change,
    office hours 08-16 in Copenhagen with Danish holidays, normal priority (60/120/480)."""
    policy = api.ok(api.post(P, json=policy_body()), 201)
    ticket = _mail(api, "kunde@kunde.example.com", "2026-03-27T15:30:00+01:00")
    sla = ticket["sla"]
    assert set(sla) == SLA_KEYS
    assert sla["policy_id"] == policy["id"]
    # The ticket is created (and numbered) now (issue 11, bug 9); its clock counts from the
    # mail's received time.
    assert ticket["custom_fields"]["email_received_at"].startswith("2026-03-27T14:30:00")
    # 30 minutes on Friday, the rest from Monday 08:00, which is summer time by then.
    assert sla["first_response_due_at"] == "2026-03-30T08:30:00+02:00"
    assert sla["resolution_due_at"] == "2026-03-30T15:30:00+02:00"
    assert sla["next_response_due_at"] is None
    assert sla["state"] == "breached"  # that Monday is long gone
    assert datetime.fromisoformat(sla["first_response_due_at"]).utcoffset() == timedelta(hours=2)


def test_easter_holidays_push_the_due_time(api: Api) -> None:
    api.ok(api.post(P, json=policy_body()), 201)
    # Wednesday 15:30: 30 minutes that day, then Maundy Thursday to Easter Monday are closed.
    ticket = _mail(api, "kunde@kunde.example.com", "2026-04-01T15:30:00+02:00", "Easter")
    assert ticket["sla"]["first_response_due_at"] == "2026-04-07T08:30:00+02:00"


def test_a_customer_policy_beats_the_default(api: Api) -> None:
    api.ok(api.post(P, json=policy_body()), 201)
    customer = api.ok(
        api.post("/api/v1/customers", json={"name": "Gold A/S", "domains": ["gold.example.com"]}),
        201,
    )
    gold = api.ok(
        api.post(
            P,
            json=policy_body(
                "Gold", default=False, hours=ALWAYS_OPEN, customer_ids=[customer["id"]]
            ),
        ),
        201,
    )
    ticket = _mail(api, "boss@gold.example.com", "2026-03-28T12:00:00+01:00", "Gold issue")
    assert ticket["customer_id"] == customer["id"]
    assert ticket["sla"]["policy_id"] == gold["id"]
    # 24x7: Saturday noon + 60 minutes.
    assert ticket["sla"]["first_response_due_at"] == "2026-03-28T13:00:00+01:00"


def test_without_any_policy_the_sla_is_empty(api: Api) -> None:
    ticket = api.ok(api.post("/api/v1/tickets", json={"subject": "No SLA"}), 201)
    assert ticket["sla"] == {
        "policy_id": None,
        "first_response_due_at": None,
        "next_response_due_at": None,
        "resolution_due_at": None,
        "state": "ok",
    }


def test_state_follows_the_clock_through_the_api(api: Api) -> None:
    """24x7 policy, generous targets: ok; waiting for the customer: paused with no pending
    due time; an agent comment meets the first response; resolving meets the SLA."""
    api.ok(api.post(P, json=policy_body(hours=ALWAYS_OPEN)), 201)
    ticket = api.ok(api.post("/api/v1/tickets", json={"subject": "Clock"}), 201)
    assert ticket["sla"]["state"] == "ok"
    due = datetime.fromisoformat(ticket["sla"]["first_response_due_at"])
    assert abs(due - (utcnow() + timedelta(minutes=60))) < timedelta(minutes=2)
    tid = ticket["id"]
    paused = api.ok(api.patch(f"/api/v1/tickets/{tid}", json={"status": "waiting_customer"}))
    assert paused["sla"]["state"] == "paused"
    assert paused["sla"]["first_response_due_at"] is None
    resumed = api.ok(api.patch(f"/api/v1/tickets/{tid}", json={"status": "open"}))
    assert resumed["sla"]["state"] == "ok"
    assert resumed["sla"]["first_response_due_at"] is not None
    api.ok(api.post(f"/api/v1/tickets/{tid}/comments", json={"body": "On it."}), 201)
    resolved = api.ok(api.patch(f"/api/v1/tickets/{tid}", json={"status": "resolved"}))
    assert resolved["sla"]["state"] == "met"


def test_the_ticket_list_sorts_and_filters_by_sla_due(api: Api) -> None:
    api.ok(api.post(P, json=policy_body(hours=ALWAYS_OPEN)), 201)
    now = utcnow()
    later = _mail(api, "a@kunde.example.com", (now - timedelta(minutes=5)).isoformat(), "Later")
    sooner = _mail(api, "b@kunde.example.com", (now - timedelta(days=2)).isoformat(), "Sooner")
    plain = api.ok(api.post("/api/v1/tickets", json={"subject": "No clock yet"}), 201)
    api.ok(api.delete(P + f"/{later['sla']['policy_id']}"), 204)  # clocks keep their dues
    order = api.ok(api.get("/api/v1/tickets?sort=sla_due"))["items"]
    assert [t["id"] for t in order][:2] == [sooner["id"], later["id"]]
    assert plain["id"] in [t["id"] for t in order]  # no pending due time: last, not dropped
    breached = api.ok(api.get("/api/v1/tickets?sla_state=breached"))["items"]
    assert [t["id"] for t in breached] == [sooner["id"]]
    before = (now + timedelta(minutes=30)).isoformat()
    due_soon = api.ok(api.get("/api/v1/tickets", params={"sla_due_before": before}))["items"]
    assert [t["id"] for t in due_soon] == [sooner["id"]]
    bad = api.get("/api/v1/tickets?sla_state=late")
    assert bad.status_code == 422
    assert "sla_state" in bad.json()["detail"]
