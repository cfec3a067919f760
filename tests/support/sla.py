"""SLA policies for tests: the office-hours calendar of the issue and a 24x7 one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hubdesk.sla import service as sla
from hubdesk.sla.models import SlaPolicy
from hubdesk.users.permissions import SYSTEM

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE_HOURS: dict[str, list[list[str]]] = {
    **{day: [["08:00", "16:00"]] for day in WEEKDAYS},
    "sat": [],
    "sun": [],
}
ALWAYS_OPEN: dict[str, list[list[str]]] = {
    day: [["00:00", "24:00"]] for day in (*WEEKDAYS, "sat", "sun")
}


def targets(first: int = 60, next_: int = 120, resolution: int = 480) -> dict[str, Any]:
    return {
        "first_response_minutes": first,
        "next_response_minutes": next_,
        "resolution_minutes": resolution,
    }


def policy_body(
    name: str = "Standard",
    *,
    default: bool = True,
    hours: dict[str, list[list[str]]] | None = None,
    customer_ids: list[int] | None = None,
    country: str | None = "DK",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": name,
        "default": default,
        "customer_ids": customer_ids or [],
        "calendar": {
            "timezone": "Europe/Copenhagen",
            "hours": hours or OFFICE_HOURS,
            "holidays": [],
            "country_holidays": country,
        },
        "targets": {
            "normal": targets(),
            "high": targets(30, 60, 240),
            "critical": targets(15, 30, 120),
            "low": targets(240, 480, 2400),
        },
        **extra,
    }


def policy(session: Session, name: str = "Standard", **kwargs: Any) -> SlaPolicy:
    return sla.create_policy(session, SYSTEM, policy_body(name, **kwargs))
