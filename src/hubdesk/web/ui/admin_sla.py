"""Admin: SLA policies (`/admin/sla-policies`), for holders of `sla.manage`.

The form's values go through the API's own schemas (`PolicyCreate`, `PolicyUpdate`) and
then `hubdesk.sla.service`, so the page refuses exactly what the API refuses, with the same
message, shown on the form with the values as entered. The form edits the name, the default
flag, the calendar (hours per weekday, time zone, holidays, country holidays), the targets
per priority and the warning percentage; a policy's customers and escalations are kept as
they are (the API sets them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from hubdesk.access.deps import SessionDep
from hubdesk.api.problems import describe_request_errors
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.sla import service as sla
from hubdesk.sla.calendar import DAYS
from hubdesk.sla.models import SlaPolicy
from hubdesk.sla.schemas import PolicyCreate, PolicyUpdate
from hubdesk.tickets.states import PRIORITIES
from hubdesk.users.permissions import SLA_MANAGE
from hubdesk.web.ui import flash, i18n
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render

router = page_router()
TARGET_KEYS: Final = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
_WINDOW: Final = re.compile(r"\A\s*(\S+?)\s*[-–]\s*(\S+)\s*\Z")
_SPLIT: Final = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class PolicyForm:
    """The policy form as the admin filled it in (text, exactly as typed)."""

    name: str = ""
    default: bool = False
    timezone: str = "Europe/Copenhagen"
    country_holidays: str = ""
    holidays: str = ""
    warning_percent: str = "80"
    hours: dict[str, str] = field(default_factory=dict)
    targets: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, policy: SlaPolicy) -> PolicyForm:
        return cls(
            name=policy.name,
            default=policy.is_default,
            timezone=policy.timezone,
            country_holidays=policy.country_holidays or "",
            holidays="\n".join(policy.holidays),
            warning_percent=str(policy.warning_percent),
            hours={
                day: ", ".join(f"{a}-{b}" for a, b in policy.hours.get(day, [])) for day in DAYS
            },
            targets={
                p: {k: str(v) for k, v in policy.targets[p].items()}
                for p in PRIORITIES
                if p in policy.targets
            },
        )

    @classmethod
    def posted(cls, form: dict[str, str]) -> PolicyForm:
        return cls(
            name=form.get("name", ""),
            default=form.get("default", "") not in ("", "0", "off"),
            timezone=form.get("timezone", ""),
            country_holidays=form.get("country_holidays", ""),
            holidays=form.get("holidays", ""),
            warning_percent=form.get("warning_percent", ""),
            hours={day: form.get(f"hours_{day}", "") for day in DAYS},
            targets={
                p: {k: form.get(f"target_{p}_{k}", "") for k in TARGET_KEYS} for p in PRIORITIES
            },
        )

    def fields(self) -> dict[str, Any]:
        """The API's body for these values; `ValidationFailed` names what to fix."""
        return {
            "name": self.name.strip(),
            "default": self.default,
            "calendar": {
                "timezone": self.timezone.strip(),
                "hours": {day: _windows(day, self.hours.get(day, "")) for day in DAYS},
                "holidays": [d for d in _SPLIT.split(self.holidays) if d],
                "country_holidays": self.country_holidays.strip().upper() or None,
            },
            "targets": _targets(self.targets),
            "warning_percent": _whole(self.warning_percent, "warning_percent"),
        }


def _windows(day: str, text: str) -> list[list[str]]:
    out = []
    for part in (p for p in text.split(",") if p.strip()):
        match = _WINDOW.match(part)
        if match is None:
            raise ValidationFailed(
                f"hours.{day}: {part.strip()!r} is not a window; write 08:00-16:00, "
                "several separated by commas, or leave the day empty (closed)"
            )
        out.append([match.group(1), match.group(2)])
    return out


def _targets(raw: dict[str, dict[str, str]]) -> dict[str, dict[str, int]]:
    out = {}
    for priority in PRIORITIES:
        given = {k: v.strip() for k, v in raw.get(priority, {}).items() if v.strip()}
        if not given:
            continue
        if len(given) != len(TARGET_KEYS):
            raise ValidationFailed(
                f"targets.{priority}: fill in all three minutes, or none (no target)"
            )
        out[priority] = {k: _whole(v, f"targets.{priority}.{k}") for k, v in given.items()}
    return out


def _whole(text: str, name: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValidationFailed(f"{name}: enter a whole number") from None


async def _posted(request: Request) -> PolicyForm:
    form = await request.form()
    return PolicyForm.posted({k: v for k, v in form.items() if isinstance(v, str)})


FormDep = Annotated[PolicyForm, Depends(_posted)]


def _context(policy: SlaPolicy | None, values: PolicyForm) -> dict[str, Any]:
    return {
        "policy": policy,
        "values": values,
        "days": DAYS,
        "priorities": PRIORITIES,
        "target_keys": TARGET_KEYS,
        "problems": [],
    }


def _checked(model: type[PolicyCreate] | type[PolicyUpdate], body: dict[str, Any]) -> Any:
    """The body through the API's schema (the same limits and messages as the API)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed(describe_request_errors(exc.errors())) from None


@router.get("/admin/sla-policies")
def policy_list(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    policies = sla.list_policies(session, viewer.principal)
    return render(
        request, "admin_sla_policies.html", {"policies": policies, "priorities": PRIORITIES}
    )


@router.get("/admin/sla-policies/new")
def new_policy(request: Request, viewer: ViewerDep) -> Response:
    viewer.principal.require(SLA_MANAGE)
    office = "08:00-16:00"
    values = PolicyForm(hours={day: office if day not in ("sat", "sun") else "" for day in DAYS})
    return render(request, "admin_sla_policy.html", _context(None, values))


@router.post("/admin/sla-policies")
def create_policy(
    request: Request, session: SessionDep, viewer: ViewerDep, values: FormDep
) -> Response:
    viewer.principal.require(SLA_MANAGE)
    try:
        body = _checked(PolicyCreate, values.fields())
        policy = sla.create_policy(session, viewer.principal, body.model_dump())
    except (ValidationFailed, Conflict) as exc:
        form_refused(
            request,
            "admin_sla_policy.html",
            _context(None, values),
            i18n.said(language_of(request), exc),
        )
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, "/admin/sla-policies", _("SLA policy {name} saved.", name=policy.name)
    )


@router.get("/admin/sla-policies/{policy_id}")
def policy_page(
    request: Request, policy_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    policy = sla.get_policy(session, viewer.principal, policy_id)
    return render(request, "admin_sla_policy.html", _context(policy, PolicyForm.of(policy)))


@router.post("/admin/sla-policies/{policy_id}")
def update_policy(
    request: Request, policy_id: int, session: SessionDep, viewer: ViewerDep, values: FormDep
) -> Response:
    policy = sla.get_policy(session, viewer.principal, policy_id)
    try:
        body = _checked(PolicyUpdate, values.fields())
        sla.update_policy(
            session, viewer.principal, policy, body.model_dump(include=body.model_fields_set)
        )
    except (ValidationFailed, Conflict) as exc:
        session.expire_all()
        stored = sla.get_policy(session, viewer.principal, policy_id)
        form_refused(
            request,
            "admin_sla_policy.html",
            _context(stored, values),
            i18n.said(language_of(request), exc),
        )
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, "/admin/sla-policies", _("SLA policy {name} saved.", name=policy.name)
    )


@router.post("/admin/sla-policies/{policy_id}/delete")
def delete_policy(
    request: Request, policy_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    """Delete the policy; a second click (or another admin first) finds it gone: 404."""
    _ = i18n.translator(language_of(request))
    policy = sla.get_policy(session, viewer.principal, policy_id)
    name = policy.name
    sla.delete_policy(session, viewer.principal, policy)
    return flash.redirect(
        request, "/admin/sla-policies", _("SLA policy {name} deleted.", name=name)
    )
