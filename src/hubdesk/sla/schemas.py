"""API shapes of SLA policies and of a ticket's `sla` field."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from hubdesk.api.limits import NOT_BLANK, Id
from hubdesk.api.schemas import Out, Strict

EscalationName = Literal["notify_assignee", "raise_priority", "notify_group", "reassign"]


class EscalationStep(Strict):
    """An action with its parameter: `{"action": "notify_group", "group": "Tier 2"}`,
    `{"action": "reassign", "user_id": 5}` or `{"action": "reassign", "group": "Tier 2"}`
    (the group's next available agent, as automatic assignment picks)."""

    action: EscalationName
    group: str | None = Field(default=None, min_length=1, max_length=100)
    user_id: Id | None = None


EscalationAction = EscalationName | EscalationStep


class CalendarIn(Strict):
    timezone: str = Field(min_length=1, max_length=64)
    hours: dict[str, list[list[str]]]
    holidays: list[str] = Field(default_factory=list)
    country_holidays: str | None = None


class TargetIn(Strict):
    first_response_minutes: int = Field(gt=0, le=10_000_000)
    next_response_minutes: int = Field(gt=0, le=10_000_000)
    resolution_minutes: int = Field(gt=0, le=10_000_000)


def _on_warning() -> list[EscalationAction]:
    return ["notify_assignee"]


def _on_breach() -> list[EscalationAction]:
    return ["notify_assignee", "raise_priority"]


class EscalationsIn(Strict):
    warning: list[EscalationAction] = Field(default_factory=_on_warning)
    breach: list[EscalationAction] = Field(default_factory=_on_breach)


class PolicyCreate(Strict):
    name: str = Field(min_length=1, max_length=200, json_schema_extra=NOT_BLANK)
    default: bool = False
    customer_ids: list[Id] = Field(default_factory=list)
    calendar: CalendarIn
    targets: dict[str, TargetIn]
    warning_percent: int = Field(default=80, ge=1, le=99)
    escalations: EscalationsIn = Field(default_factory=EscalationsIn)


class PolicyUpdate(Strict):
    name: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=NOT_BLANK
    )
    default: bool | None = None
    customer_ids: list[Id] | None = None
    calendar: CalendarIn | None = None
    targets: dict[str, TargetIn] | None = None
    warning_percent: int | None = Field(default=None, ge=1, le=99)
    escalations: EscalationsIn | None = None


class CalendarOut(Out):
    timezone: str
    hours: dict[str, list[list[str]]]
    holidays: list[str]
    country_holidays: str | None


class TargetOut(Out):
    first_response_minutes: int
    next_response_minutes: int
    resolution_minutes: int


class EscalationsOut(Out):
    warning: list[str | dict[str, str | int]]
    breach: list[str | dict[str, str | int]]


class PolicyOut(Out):
    id: int
    name: str
    default: bool
    customer_ids: list[Id]
    calendar: CalendarOut
    targets: dict[str, TargetOut]
    warning_percent: int
    escalations: EscalationsOut
    created_at: datetime
    updated_at: datetime


class SlaOut(Out):
    """A ticket's SLA: due times (ISO 8601 with offset, null where none) and its state."""

    policy_id: int | None = None
    first_response_due_at: datetime | None = None
    next_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    state: Literal["ok", "warning", "breached", "met", "paused"] = "ok"


class EscalationOut(Out):
    id: int
    ticket_id: int
    policy_id: int | None
    kind: str
    target: str
    due_at: datetime | None
    fired_at: datetime
    actions: list[dict[str, str]]
