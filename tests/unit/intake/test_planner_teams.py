"""The planner's team routing alone, with no database (`hubdesk.intake.teams`): one email to
several teams' mailboxes, and replies into the tickets it opened."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from hubdesk.intake.planner import LinkTarget, RoutePlan
from hubdesk.intake.teams import FamilyTicket, TeamAddress, TeamCopy
from hubdesk.intake.types import ThreadDecision
from tests.unit.intake.test_planner import NEW, NOW, REPLY, Flow, _plan

SUPPORT = TeamAddress("support@example.com", 11, "Support")
SALES = TeamAddress("sales+dk@example.com", 12, "Sales")
BILLING = TeamAddress("billing@example.com", 13, "Billing")
OPEN = LinkTarget(open=True, ended_at=None)
FAMILY = (
    FamilyTicket(7, "TKT-A", 11, "Support"),
    FamilyTicket(8, "TKT-B", 12, "Sales"),
    FamilyTicket(9, "TKT-C", 13, "Billing"),
)


def _teams_plan(tmp_path: Path, **values: Any) -> RoutePlan:
    return _plan(tmp_path, **values)


def test_mail_to_one_team_opens_that_teams_ticket_and_says_nothing_more(tmp_path: Path) -> None:
    plan = _teams_plan(tmp_path, teams=(SUPPORT,))
    assert (plan.disposition, plan.team, plan.copies) == ("create", SUPPORT, ())
    assert plan.reasons == (NEW.reason,)
    assert plan.thread == NEW


def test_mail_to_no_team_opens_a_ticket_without_a_team(tmp_path: Path) -> None:
    plan = _teams_plan(tmp_path)
    assert (plan.disposition, plan.team, plan.copies) == ("create", None, ())


def test_mail_to_three_teams_opens_one_ticket_per_team(tmp_path: Path) -> None:
    plan = _teams_plan(tmp_path, teams=(SALES, SUPPORT, BILLING))
    assert plan.disposition == "create"
    assert plan.team == SALES
    assert [(c.team_id, c.ticket_id) for c in plan.copies] == [(11, None), (13, None)]
    named = (
        "Sales: sales+dk@example.com, Support: support@example.com, Billing: billing@example.com"
    )
    why = f"sent to 3 teams' mailboxes ({named}): one ticket per team"
    assert plan.reason == f"{NEW.reason}; {why}, this one Sales's"
    assert plan.thread is not None
    assert plan.thread.reason == plan.reason
    assert plan.copies[0].reason == f"{NEW.reason}; {why}, this one Support's"
    assert plan.as_json()["team"] == "Sales"
    assert plan.as_json()["team_tickets"] == [
        {"would": "create", "team": "Support", "reason": plan.copies[0].reason},
        {"would": "create", "team": "Billing", "reason": plan.copies[1].reason},
    ]


def test_mail_to_several_teams_that_waits_in_triage_opens_nothing(tmp_path: Path) -> None:
    plan = _teams_plan(tmp_path, teams=(SALES, SUPPORT), throttled="throttled: too many")
    assert (plan.disposition, plan.copies, plan.team) == ("triage", (), None)


def test_a_workflow_that_links_new_mail_elsewhere_opens_no_team_tickets(tmp_path: Path) -> None:
    flow = Flow("to-one", [{"action": "link_email_to_ticket", "params": {"ticket_number": "X"}}])
    plan = _teams_plan(
        tmp_path, teams=(SALES, SUPPORT), workflows=(flow,), email_workflows_enabled=True
    )
    assert (plan.disposition, plan.copies) == ("link", ())


def test_a_reply_sent_to_one_teams_mailbox_goes_to_that_teams_ticket(tmp_path: Path) -> None:
    plan = _teams_plan(tmp_path, thread=REPLY, target=OPEN, teams=(SALES,), family=FAMILY)
    assert plan.disposition == "link"
    assert plan.thread is not None
    assert plan.thread.ticket_id == 8
    assert plan.copies == ()
    assert plan.reason == (
        f"{REPLY.reason}; one of the linked tickets TKT-A, TKT-B, TKT-C; sent to "
        "sales+dk@example.com (Sales), so to that team's ticket: TKT-B"
    )


def test_a_reply_sent_to_two_teams_mailboxes_goes_to_both_and_keeps_its_own(
    tmp_path: Path,
) -> None:
    plan = _teams_plan(tmp_path, thread=REPLY, target=OPEN, teams=(BILLING, SUPPORT), family=FAMILY)
    assert plan.thread is not None
    assert plan.thread.ticket_id == 7
    assert [(c.ticket_id, c.ticket_number) for c in plan.copies] == [(9, "TKT-C")]
    assert plan.as_json()["team_tickets"][0]["would"] == "link"


def test_an_ambiguous_reply_goes_to_every_linked_ticket(tmp_path: Path) -> None:
    plan = _teams_plan(tmp_path, thread=REPLY, target=OPEN, family=FAMILY)
    assert plan.thread is not None
    assert plan.thread.ticket_id == 7
    assert [c.ticket_id for c in plan.copies] == [8, 9]
    assert "sent to none of their teams' mailboxes, so it is ambiguous" in plan.reason
    assert all("ambiguous" in c.reason for c in plan.copies)
    assert plan.copies[0] == TeamCopy(plan.copies[0].reason, 12, "Sales", 8, "TKT-B")


def test_a_reply_to_a_ticket_of_no_set_links_as_before(tmp_path: Path) -> None:
    plan = _teams_plan(tmp_path, thread=REPLY, target=OPEN, teams=(SALES,))
    assert (plan.disposition, plan.copies, plan.reason) == ("link", (), REPLY.reason)
    assert plan.thread == REPLY


def test_a_follow_up_of_a_long_closed_ticket_is_its_mailboxs_teams(tmp_path: Path) -> None:
    closed = LinkTarget(open=False, ended_at=NOW - timedelta(days=40))
    plan = _teams_plan(
        tmp_path, thread=REPLY, target=closed, teams=(SALES,), family=FAMILY, ticket_reopen_days=30
    )
    assert (plan.disposition, plan.follow_up, plan.team, plan.copies) == (
        "create",
        True,
        SALES,
        (),
    )


def test_a_reply_redirected_by_its_team_keeps_the_workflow_reasons(tmp_path: Path) -> None:
    flow_steps = [{"action": "add_tags", "params": {"tags": ["x"]}}]
    plan = _teams_plan(
        tmp_path,
        thread=ThreadDecision("message_id", "In-Reply-To names our message", ticket_id=7),
        target=OPEN,
        teams=(SALES,),
        family=FAMILY,
        workflows=(Flow("tagger", flow_steps),),
        email_workflows_enabled=True,
    )
    assert plan.reason.endswith("so to that team's ticket: TKT-B; workflows: tagger")


def test_a_reply_that_names_one_ticket_alone_goes_to_it_only(tmp_path: Path) -> None:
    """One of our signed Message-IDs (an answer to an agent's reply) or a ticket number is
    not ambiguous: sent to no team's mailbox, it stays on the ticket it names."""
    signed = ThreadDecision("message_id", "our signed id", ticket_id=8, specific=True)
    plan = _teams_plan(tmp_path, thread=signed, target=OPEN, family=FAMILY)
    assert plan.thread is not None
    assert (plan.thread.ticket_id, plan.copies) == (8, ())
    assert plan.reason.endswith("and it answers that ticket alone: TKT-B")
    # Sent to a team's mailbox, the team still decides.
    plan = _teams_plan(tmp_path, thread=signed, target=OPEN, family=FAMILY, teams=(BILLING,))
    assert plan.thread is not None
    assert plan.thread.ticket_id == 9
