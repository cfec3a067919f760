"""Every workflow action, its typed parameters, and validating a workflow before it is saved.

A workflow is the spec's JSON: `name`, `classification_trigger`, `confidence_threshold`,
`workflow_steps: [{"action", "params"}]`. Validation names the step's index, its action and
the fix, for unknown actions, missing or wrongly typed parameters, ids of users or customers
that do not exist, thresholds outside 0..1 and unknown classifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from pydantic import Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.api.limits import Int
from hubdesk.api.schemas import Strict
from hubdesk.classifier.models import ClassifierModel
from hubdesk.classifier.rules import CLASSES
from hubdesk.customers.models import Customer
from hubdesk.errors import ValidationFailed
from hubdesk.tickets.numbers import is_ticket_number
from hubdesk.tickets.tags import normalize_tags
from hubdesk.users.models import User
from hubdesk.workflows.params import ACTION_PARAMS, Params

TICKET_ACTIONS: Final = frozenset(
    {
        "assign_ticket",
        "set_priority",
        "set_status",
        "add_tags",
        "set_customer",
        "add_internal_note",
        "send_auto_reply",
    }
)
"""Actions that act on the current ticket, so an earlier step must have made or found one
(or the email must be a reply, which is linked before `reply` workflows run)."""
TICKET_MAKERS: Final = frozenset({"create_ticket", "link_email_to_ticket"})


class WorkflowIn(Strict):
    """A workflow as an admin writes it (the spec's JSON plus hubdesk's own fields)."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    classification_trigger: str = Field(min_length=1, max_length=64)
    confidence_threshold: float = Field(default=0.0, json_schema_extra={"minimum": 0, "maximum": 1})
    workflow_steps: list[dict[str, Any]] = Field(min_length=1)
    enabled: bool = True
    position: Int | None = None
    stop_after_match: bool = True


def known_classes(session: Session) -> set[str]:
    labels: set[str] = {*CLASSES, "*"}
    for model_labels in session.scalars(select(ClassifierModel.labels)):
        labels.update(model_labels or [])
    return labels


def validate(session: Session, workflow: WorkflowIn) -> list[dict[str, Any]]:
    """The steps, normalised; `ValidationFailed` naming every problem and how to fix it."""
    problems: list[str] = []
    if not 0.0 <= workflow.confidence_threshold <= 1.0:
        problems.append(
            f"confidence_threshold {workflow.confidence_threshold} is outside 0..1; use a "
            "number such as 0.7"
        )
    classes = known_classes(session)
    if workflow.classification_trigger not in classes:
        problems.append(
            f"classification_trigger {workflow.classification_trigger!r} is not a known "
            f"classification; use one of {', '.join(sorted(classes))}"
        )
    steps: list[dict[str, Any]] = []
    has_ticket = workflow.classification_trigger == "reply"
    for index, step in enumerate(workflow.workflow_steps):
        checked, problem = _check_step(session, index, step, has_ticket)
        if problem:
            problems.append(problem)
        if checked is not None:
            steps.append(checked)
            has_ticket = has_ticket or checked["action"] in TICKET_MAKERS
    if problems:
        raise ValidationFailed("; ".join(problems))
    return steps


def _check_step(
    session: Session, index: int, step: Mapping[str, Any], has_ticket: bool
) -> tuple[dict[str, Any] | None, str | None]:
    where = f"step {index}"
    if not isinstance(step, Mapping) or "action" not in step:
        return None, f'{where}: write it as {{"action": ..., "params": {{...}}}}'
    action = step["action"]
    extra = set(step) - {"action", "params"}
    if extra:
        return None, f"{where} ({action}): unknown keys {sorted(extra)}; use action and params"
    schema = ACTION_PARAMS.get(action) if isinstance(action, str) else None
    if schema is None:
        return None, (
            f"{where}: unknown action {action!r}; use one of {', '.join(sorted(ACTION_PARAMS))}"
        )
    where = f"step {index} ({action})"
    try:
        params = schema.model_validate(step.get("params") or {})
    except ValidationError as exc:
        return None, f"{where}: {_describe(exc, schema)}"
    problem = _check_references(session, action, params) or _check_order(action, has_ticket)
    if problem:
        return None, f"{where}: {problem}"
    return {"action": action, "params": params.model_dump(exclude_defaults=False)}, None


def _describe(exc: ValidationError, schema: type[Params]) -> str:
    parts = []
    for error in exc.errors():
        field_name = ".".join(str(p) for p in error["loc"]) or "params"
        if error["type"] == "missing":
            parts.append(f"the parameter {field_name} is required")
        elif error["type"] == "extra_forbidden":
            allowed = ", ".join(schema.model_fields) or "none"
            parts.append(f"unknown parameter {field_name}; allowed: {allowed}")
        else:
            parts.append(f"parameter {field_name}: {error['msg']} (got {error.get('input')!r})")
    return "; ".join(parts)


def _check_references(session: Session, action: str, params: Params) -> str | None:
    user_id = getattr(params, "assigned_to_user_id", None)
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or not user.active:
            return f"user {user_id} does not exist or is not active; use an existing user's id"
    customer_id = getattr(params, "customer_id", None)
    if customer_id is not None and session.get(Customer, customer_id) is None:
        return f"customer {customer_id} does not exist; use an existing customer's id"
    number = getattr(params, "ticket_number", None)
    if number is not None and not is_ticket_number(number):
        return f"ticket_number {number!r} is not of the form TKT-YYYYMMDD-NNN"
    if action == "add_tags":
        try:
            normalize_tags(getattr(params, "tags", []))
        except ValidationFailed as exc:
            return str(exc)
    return None


def _check_order(action: str, has_ticket: bool) -> str | None:
    if action in TICKET_ACTIONS and not has_ticket:
        return (
            "it acts on a ticket, but no earlier step makes one; put create_ticket or "
            "link_email_to_ticket before it (or use the trigger 'reply')"
        )
    return None


def describe_actions() -> Iterable[dict[str, Any]]:
    """The catalog as data (for docs and the UI): each action with its parameter schema."""
    for name, schema in sorted(ACTION_PARAMS.items()):
        yield {
            "action": name,
            "description": (schema.__doc__ or "").strip(),
            "params": schema.model_json_schema(),
        }
