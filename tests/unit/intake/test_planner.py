"""The planner alone, with no database: given these inputs, this plan.

The mail is parsed by the real parser; the thread decision, classification, workflows,
throttle state and settings are values. `hubdesk plan` and ingest both plan here, so these
cases are what both say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hubdesk.classifier.rules import Verdict
from hubdesk.config import Settings
from hubdesk.intake.planner import (
    SMART_ROUTING,
    LinkTarget,
    RoutePlan,
    Step,
    decided,
    plan_route,
)
from hubdesk.intake.teams import FamilyTicket, TeamAddress
from hubdesk.intake.types import ThreadDecision
from hubdesk.mail.limits import MailLimits
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from hubdesk.workflows.params import AddTags, CreateTicket, LinkEmailToTicket, MarkSpam
from tests.support.mail import raw_mail

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NEW = ThreadDecision("new", "no thread signal")
REPLY = ThreadDecision("message_id", "In-Reply-To names our message", ticket_id=7)
SUPPORT = Verdict("support_request", 0.8, "rules")


@dataclass(frozen=True)
class Flow:
    """A workflow as the planner reads it (a `Workflow` row in production)."""

    name: str
    workflow_steps: list[dict[str, Any]]
    classification_trigger: str = "support_request"
    confidence_threshold: float = 0.0
    stop_after_match: bool = True
    enabled: bool = True
    id: int = field(default=1)


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        secret_key="planner-" + "k" * 40,
        _env_file=None,  # type: ignore[call-arg]
        **values,
    )


def _parsed(**fields: Any) -> ParsedEmail:
    parsed = parse_email(raw_mail(**fields), MailLimits())
    assert isinstance(parsed, ParsedEmail)
    return parsed


def _plan(
    tmp_path: Path,
    *,
    parsed: ParsedEmail | None = None,
    thread: ThreadDecision = NEW,
    verdict: Verdict = SUPPORT,
    workflows: tuple[Flow, ...] = (),
    throttled: str | None = None,
    target: LinkTarget | None = None,
    teams: tuple[TeamAddress, ...] = (),
    family: tuple[FamilyTicket, ...] = (),
    **settings: Any,
) -> RoutePlan:
    return plan_route(
        parsed or _parsed(),
        thread,
        verdict,
        workflows,
        throttled=throttled,
        settings=_settings(tmp_path, **settings),
        received_at=NOW,
        target=target,
        teams=teams,
        family=family,
    )


def test_new_mail_opens_a_ticket_by_the_smart_routing(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert plan.disposition == "create"
    assert plan.reasons == ("no thread signal",)
    assert plan.first == ()
    assert plan.workflows == ()
    assert plan.fallback == SMART_ROUTING
    assert plan.fallback == (Step("create_ticket", CreateTicket()),)
    assert not plan.settled


def test_a_reply_is_linked_first(tmp_path: Path) -> None:
    plan = _plan(tmp_path, thread=REPLY, target=LinkTarget(open=True, ended_at=None))
    assert plan.disposition == "link"
    assert plan.first == SMART_ROUTING
    assert plan.reason == "In-Reply-To names our message"


def test_a_reply_to_a_ticket_closed_past_the_reopen_window_opens_a_follow_up(
    tmp_path: Path,
) -> None:
    long_ago = LinkTarget(open=False, ended_at=NOW - timedelta(days=31))
    plan = _plan(tmp_path, thread=REPLY, target=long_ago, ticket_reopen_days=30)
    assert (plan.disposition, plan.follow_up) == ("create", True)
    recently = LinkTarget(open=False, ended_at=NOW - timedelta(days=29))
    plan = _plan(tmp_path, thread=REPLY, target=recently, ticket_reopen_days=30)
    assert (plan.disposition, plan.follow_up) == ("link", False)


def test_a_throttled_sender_waits_in_triage_but_their_replies_still_link(tmp_path: Path) -> None:
    why = "throttled: a@example.com opened 20 tickets in the last hour"
    plan = _plan(tmp_path, throttled=why)
    assert (plan.disposition, plan.settled, plan.reasons) == ("triage", True, (why,))
    assert plan.first == plan.fallback == ()
    assert _plan(tmp_path, thread=REPLY, throttled=why).disposition == "link"


@pytest.mark.parametrize(
    ("mail", "verdict", "settings", "reason"),
    [
        ({"headers": {"Auto-Submitted": "auto-replied"}}, SUPPORT, {}, "auto_reply: "),
        ({}, Verdict("spam", 0.97, "rules", ("viagra",)), {}, "spam: viagra (confidence 0.97)"),
        ({"headers": {"List-Id": "<x.example>"}}, SUPPORT, {"ticket_ignore_bulk": True}, "bulk: "),
    ],
)
def test_mail_that_makes_no_ticket_is_ignored_before_any_action(
    tmp_path: Path, mail: dict[str, Any], verdict: Verdict, settings: dict[str, Any], reason: str
) -> None:
    flow = Flow("all", [{"action": "create_ticket", "params": {}}], classification_trigger="*")
    plan = _plan(
        tmp_path,
        parsed=_parsed(**mail),
        verdict=verdict,
        workflows=(flow,),
        email_workflows_enabled=True,
        **settings,
    )
    assert (plan.disposition, plan.settled) == ("ignore", True)
    assert plan.reason.startswith(reason)
    assert plan.first == plan.workflows == plan.fallback == ()


def test_bulk_mail_is_routed_like_any_other_by_default(tmp_path: Path) -> None:
    plan = _plan(tmp_path, parsed=_parsed(headers={"List-Id": "<x.example>"}))
    assert plan.disposition == "create"


def test_mail_without_a_readable_sender_waits_in_triage(tmp_path: Path) -> None:
    parsed = parse_email(b"Subject: who?\r\n\r\nno From at all\r\n", MailLimits())
    assert isinstance(parsed, ParsedEmail)
    plan = _plan(tmp_path, parsed=parsed)
    assert (plan.disposition, plan.settled) == ("triage", True)
    assert plan.reason.startswith("no readable sender (From missing)")


def test_workflows_are_not_planned_while_disabled(tmp_path: Path) -> None:
    flow = Flow("W", [{"action": "create_ticket", "params": {"priority": "high"}}])
    plan = _plan(tmp_path, workflows=(flow,), email_workflows_enabled=False)
    assert plan.workflows == ()
    assert plan.fallback == SMART_ROUTING


def test_matching_workflows_in_order_with_typed_parameters(tmp_path: Path) -> None:
    flows = (
        Flow(
            "first",
            [
                {"action": "create_ticket", "params": {"priority": "high"}},
                {"action": "add_tags", "params": {"tags": ["vip"]}},
            ],
            stop_after_match=False,
            id=1,
        ),
        Flow("invoices", [{"action": "create_ticket"}], classification_trigger="invoice", id=2),
        Flow("too sure", [{"action": "create_ticket"}], confidence_threshold=0.81, id=3),
        Flow("second", [{"action": "add_tags", "params": {"tags": ["b"]}}], id=4),
    )
    plan = _plan(tmp_path, workflows=flows, email_workflows_enabled=True)
    assert [w.name for w in plan.workflows] == ["first", "second"]
    assert plan.workflows[0].steps == (
        Step("create_ticket", CreateTicket(priority="high")),
        Step("add_tags", AddTags(tags=["vip"])),
    )
    assert plan.disposition == "create"
    assert plan.reason == "no thread signal; workflows: first, second"


def test_a_completed_workflow_stops_the_later_ones(tmp_path: Path) -> None:
    flows = (
        Flow("first", [{"action": "create_ticket"}], id=1),
        Flow("second", [{"action": "create_ticket"}], id=2),
    )
    plan = _plan(tmp_path, workflows=flows, email_workflows_enabled=True)
    assert plan.reason == "no thread signal; workflows: first"


def test_a_step_that_cannot_run_fails_its_workflow_and_the_mail_waits_in_triage(
    tmp_path: Path,
) -> None:
    flows = (
        Flow("broken", [{"action": "teleport", "params": {}}], id=1),
        Flow("no ticket", [{"action": "add_tags", "params": {"tags": ["x"]}}], id=2),
    )
    plan = _plan(tmp_path, workflows=flows, email_workflows_enabled=True)
    assert plan.workflows[0].steps == (Step("teleport", None, "unknown action 'teleport'"),)
    assert plan.disposition == "triage"
    assert plan.reasons == ("workflow 'broken', 'no ticket' failed",)


def test_a_workflow_that_marks_spam_ignores_the_mail(tmp_path: Path) -> None:
    flow = Flow("spam", [{"action": "mark_spam", "params": {"reason": "known spammer"}}])
    plan = _plan(tmp_path, workflows=(flow,), email_workflows_enabled=True)
    assert plan.workflows[0].steps == (Step("mark_spam", MarkSpam(reason="known spammer")),)
    assert (plan.disposition, plan.reasons) == ("ignore", ("spam: known spammer",))


def test_the_fallback_when_no_workflow_takes_the_mail(tmp_path: Path) -> None:
    flow = Flow("invoices", [{"action": "create_ticket"}], classification_trigger="invoice")
    built_in = _plan(tmp_path, workflows=(flow,), email_workflows_enabled=True)
    assert (built_in.disposition, built_in.fallback) == ("create", SMART_ROUTING)
    held = _plan(
        tmp_path,
        workflows=(flow,),
        email_workflows_enabled=True,
        email_workflows_fallback="triage",
    )
    assert held.disposition == "triage"
    assert held.reasons == ("no workflow took this support_request email",)
    assert held.fallback == ()


def test_reply_workflows_act_on_the_linked_ticket(tmp_path: Path) -> None:
    flow = Flow("replies", [{"action": "set_priority", "params": {"priority": "high"}}])
    flow = Flow(flow.name, flow.workflow_steps, classification_trigger="reply")
    plan = _plan(
        tmp_path,
        thread=REPLY,
        verdict=Verdict("reply", 1.0, "rules"),
        workflows=(flow,),
        email_workflows_enabled=True,
    )
    assert plan.first == SMART_ROUTING
    assert plan.disposition == "link"
    assert plan.reason.endswith("; workflows: replies")


def test_planning_is_pure(tmp_path: Path) -> None:
    """The same inputs give an equal plan (values all the way down)."""
    flow = Flow("W", [{"action": "create_ticket", "params": {"customer_id": 3}}])
    first = _plan(tmp_path, workflows=(flow,), email_workflows_enabled=True)
    again = _plan(tmp_path, workflows=(flow,), email_workflows_enabled=True)
    assert first == again
    assert first.workflows[0].steps[0].params == CreateTicket(customer_id=3)


def test_an_agents_decisions_are_plans_too() -> None:
    linked = decided("link", "TKT-20260302-001")
    assert linked.first == (
        Step("link_email_to_ticket", LinkEmailToTicket(ticket_number="TKT-20260302-001")),
    )
    assert decided("create_ticket", None).first == SMART_ROUTING
