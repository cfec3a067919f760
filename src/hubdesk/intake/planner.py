"""The route of one email as a value: what will be done with it, decided without I/O.

`plan_route` is a pure function of the parsed mail, the thread decision, the classification,
the enabled workflows, the sender's throttle state and the settings. It returns a `RoutePlan`:
the ordered actions with their typed parameters (`hubdesk.intake.registry`), the disposition
the mail ends in when every step succeeds, and the reasons. `hubdesk.intake.executor` runs a
plan; ingest, `hubdesk plan`, triage decisions and workflow retries all plan here.

The rules, in order:

1. Bounces, auto-replies, spam and (with TICKET_IGNORE_BULK) bulk mail make no ticket
   (`hubdesk.intake.plan.disposition`).
2. Mail without a readable sender waits in triage: nobody could be answered.
3. Mail that threads to a ticket is linked first (`create_ticket` on the reply); mail that
   threads nowhere from a sender over TICKET_NEW_PER_SENDER_PER_HOUR waits in triage.
4. With EMAIL_WORKFLOWS_ENABLED the workflows matching the classification run in order of
   position, each all-or-nothing; one that completes stops the later ones unless its
   `stop_after_match` is false.
5. When no step made or found a ticket: triage if a workflow failed, triage if
   EMAIL_WORKFLOWS_FALLBACK=triage, else the built-in smart routing (`create_ticket`).
6. Teams (`hubdesk.intake.teams`): a new ticket is the team's of the mailbox the mail was
   sent to; new mail to several teams' mailboxes opens one more ticket per other team
   (`copies`), and a reply into such linked tickets goes to the one of the team it was sent
   to, or to all of them when that is ambiguous.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from pydantic import ValidationError

from hubdesk.classifier.rules import Verdict
from hubdesk.config import Settings
from hubdesk.intake.actions import past_reopen_window
from hubdesk.intake.plan import Ignore, disposition
from hubdesk.intake.registry import ACTIONS
from hubdesk.intake.teams import FamilyTicket, TeamAddress, TeamCopy, route_teams
from hubdesk.intake.types import ThreadDecision
from hubdesk.mail.types import ParsedEmail
from hubdesk.workflows.catalog import TICKET_ACTIONS, TICKET_MAKERS
from hubdesk.workflows.engine import matching
from hubdesk.workflows.params import CreateTicket, LinkEmailToTicket, Params

Disposition = Literal["create", "link", "triage", "ignore"]
NO_TICKET_ACTIONS: Final = frozenset({"mark_spam", "ignore"})


@dataclass(frozen=True, slots=True)
class Step:
    """One action with its typed parameters; `problem` when a stored step no longer reads
    (the step then fails when it runs, and its workflow with it)."""

    action: str
    params: Params | None
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.params is None:
            return {"action": self.action, "problem": self.problem}
        return {"action": self.action, "params": self.params.model_dump(mode="json")}


SMART_ROUTING: Final = (Step("create_ticket", CreateTicket()),)


@dataclass(frozen=True, slots=True)
class WorkflowPlan:
    """A matching workflow's steps, run together in one savepoint."""

    workflow_id: int
    name: str
    steps: tuple[Step, ...]
    stop_after_match: bool


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """What will be done with one email.

    `settled` plans (ignore, or triage before any action) run no step. Otherwise `first` runs,
    then the `workflows`; if no step made a ticket, a failed workflow or `fallback_triage`
    sends the mail to triage, else `fallback` runs. `disposition` and `reasons` say where the
    mail ends when every step succeeds.
    """

    disposition: Disposition
    reasons: tuple[str, ...]
    classification: str = ""
    settled: bool = False
    ignore: Ignore | None = None
    first: tuple[Step, ...] = ()
    workflows: tuple[WorkflowPlan, ...] = ()
    fallback: tuple[Step, ...] = ()
    fallback_triage: str | None = None
    follow_up: bool = False
    """The mail replies to a ticket closed past TICKET_REOPEN_DAYS: it opens a follow-up."""
    thread: ThreadDecision | None = None
    """The thread decision the steps act on (the prologue's, its reason extended by the
    team routing; for a reply into linked tickets perhaps another ticket of the set)."""
    team: TeamAddress | None = None
    """The team of the ticket the route opens (its mailbox's), if any."""
    copies: tuple[TeamCopy, ...] = ()
    """The other teams' tickets of the same email, opened or added to after the route."""

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def as_json(self) -> dict[str, Any]:
        return {
            "would": self.disposition,
            "reason": self.reason,
            "steps": [s.as_json() for s in self.first],
            "workflows": [w.name for w in self.workflows],
            "workflow_steps": {w.name: [s.as_json() for s in w.steps] for w in self.workflows},
            "otherwise": (self.fallback_triage and f"triage: {self.fallback_triage}")
            or [s.as_json() for s in self.fallback],
            "team": self.team.team if self.team is not None else None,
            "team_tickets": [c.as_json() for c in self.copies],
        }


class WorkflowLike(Protocol):
    """What the planner reads of a workflow (a `Workflow` row, or a value in a test)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def classification_trigger(self) -> str: ...
    @property
    def confidence_threshold(self) -> float: ...
    @property
    def workflow_steps(self) -> list[dict[str, Any]]: ...
    @property
    def stop_after_match(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """The ticket a reply threads to, as far as routing cares."""

    open: bool
    ended_at: datetime | None


def plan_route(
    parsed: ParsedEmail,
    thread: ThreadDecision,
    verdict: Verdict,
    workflows: Sequence[WorkflowLike],
    *,
    throttled: str | None,
    settings: Settings,
    received_at: datetime,
    target: LinkTarget | None = None,
    teams: Sequence[TeamAddress] = (),
    family: Sequence[FamilyTicket] = (),
) -> RoutePlan:
    """The plan for one email (pure). `teams`: the teams of our addresses it was sent to,
    the delivering mailbox's first; `family`: for a reply, the linked tickets of the same
    earlier email it threads into (its own ticket included)."""
    label = verdict.label
    ignored = disposition(parsed, verdict, ignore_bulk=settings.ticket_ignore_bulk)
    if ignored is not None:
        return RoutePlan("ignore", (ignored.reason,), label, settled=True, ignore=ignored)
    if parsed.from_ is None:
        return RoutePlan("triage", (no_sender(parsed),), label, settled=True)
    follow_up = (
        thread.links
        and target is not None
        and not target.open
        and past_reopen_window(target.ended_at, received_at, settings)
    )
    first: tuple[Step, ...] = ()
    if thread.links:
        first = SMART_ROUTING
    elif throttled is not None:
        return RoutePlan("triage", (throttled,), label, settled=True)
    planned: tuple[WorkflowPlan, ...] = ()
    if settings.email_workflows_enabled:
        planned = tuple(workflow_plan(w) for w in matching(workflows, label, verdict.confidence))
    fallback_triage = None
    if settings.email_workflows_enabled and settings.email_workflows_fallback == "triage":
        fallback_triage = f"no workflow took this {label} email"
    plan = RoutePlan(
        "create",
        (thread.reason,),
        label,
        first=first,
        workflows=planned,
        fallback=() if fallback_triage else SMART_ROUTING,
        fallback_triage=fallback_triage,
        follow_up=bool(follow_up),
    )
    return _with_teams(_expected(plan, thread), thread, teams, family)


def _with_teams(
    plan: RoutePlan,
    thread: ThreadDecision,
    teams: Sequence[TeamAddress],
    family: Sequence[FamilyTicket],
) -> RoutePlan:
    """The team routing of a plan that ends on a ticket; the extended thread reason
    replaces the first reason (the route's own, which the outcome repeats)."""
    if plan.disposition not in ("create", "link"):
        return replace(plan, thread=thread)
    opens = plan.disposition == "create"
    links = plan.disposition == "link"
    routed = route_teams(thread, teams, family, opens=opens, links=links)
    reasons = list(plan.reasons)
    if reasons and reasons[0].startswith(thread.reason) and routed.thread is not thread:
        reasons[0] = routed.thread.reason + reasons[0][len(thread.reason) :]
    return replace(
        plan,
        reasons=tuple(reasons),
        thread=routed.thread,
        team=routed.team,
        copies=routed.copies,
    )


def workflow_plan(workflow: WorkflowLike) -> WorkflowPlan:
    """A stored workflow's steps read into their typed parameters (the one place they are)."""
    return WorkflowPlan(
        workflow.id,
        workflow.name,
        tuple(read_step(step) for step in workflow.workflow_steps),
        workflow.stop_after_match,
    )


def read_step(step: Mapping[str, Any]) -> Step:
    action = str(step.get("action"))
    entry = ACTIONS.get(action)
    if entry is None:
        return Step(action, None, f"unknown action {action!r}")
    try:
        return Step(action, entry.params.model_validate(step.get("params") or {}))
    except ValidationError as exc:
        return Step(action, None, f"{action}: {exc}")


def decided(action: Literal["create_ticket", "link"], ticket_number: str | None) -> RoutePlan:
    """An agent's decision on held mail: the built-in smart routing, or this ticket."""
    if action == "link" and ticket_number:
        step = Step("link_email_to_ticket", LinkEmailToTicket(ticket_number=ticket_number))
        return RoutePlan("link", (f"linked to {ticket_number}",), first=(step,))
    return RoutePlan("create", ("released to the smart routing",), first=SMART_ROUTING)


@dataclass(frozen=True, slots=True)
class _Sim:
    ticket: Disposition | None
    disposed: str | None


def _expected(plan: RoutePlan, thread: ThreadDecision) -> RoutePlan:
    """Where the mail ends when every step that can succeed does (a step that cannot, fails
    its workflow: a stored step that no longer reads, or a ticket action with no ticket)."""
    made: Disposition = "create" if plan.follow_up else "link"
    state = _Sim(made if plan.first else None, None)
    completed: list[str] = []
    failed: list[str] = []
    for workflow in plan.workflows:
        after = _simulate(workflow.steps, state, thread, made)
        if after is None:
            failed.append(workflow.name)
            continue
        state = after
        completed.append(workflow.name)
        if workflow.stop_after_match:
            break
    reasons = list(plan.reasons)
    if completed:
        reasons[0] += f"; workflows: {', '.join(completed)}"
    if state.disposed is not None:
        return replace(plan, disposition="ignore", reasons=(state.disposed,))
    if state.ticket is not None:
        return replace(plan, disposition=state.ticket, reasons=tuple(reasons))
    if failed:
        names = ", ".join(repr(n) for n in failed)
        return replace(plan, disposition="triage", reasons=(f"workflow {names} failed",))
    if plan.fallback_triage is not None:
        return replace(plan, disposition="triage", reasons=(plan.fallback_triage,))
    return replace(plan, disposition="create", reasons=tuple(reasons))


def _simulate(
    steps: Sequence[Step], state: _Sim, thread: ThreadDecision, made: Disposition
) -> _Sim | None:
    ticket, disposed = state.ticket, state.disposed
    for step in steps:
        if step.params is None:
            return None
        if step.action in TICKET_MAKERS:
            if ticket is None:
                if step.action == "link_email_to_ticket":
                    ticket = "link"
                else:
                    ticket = made if thread.links else "create"
        elif step.action in TICKET_ACTIONS:
            if ticket is None:
                return None
        elif step.action in NO_TICKET_ACTIONS:
            if ticket is not None:
                return None
            spam = step.action == "mark_spam"
            kind, default = (
                ("spam", "marked as spam") if spam else ("ignored", "ignored by a workflow")
            )
            disposed = f"{kind}: {getattr(step.params, 'reason', '') or default}"
    return _Sim(ticket, disposed)


def no_sender(parsed: ParsedEmail) -> str:
    """Mail with no readable sender waits for an agent: a ticket could not be answered."""
    return (
        f"no readable sender (From {parsed.from_problem or 'missing'}); nobody could be "
        "answered, so an agent decides"
    )
