"""Admin: email workflows (`/admin/workflows`) and their runs (`/admin/workflow-executions`).

Everything here needs `workflows.manage`, as in the API. Workflows are created, changed and
deleted through `hubdesk.workflows.service`, which validates the whole workflow
(`catalog.validate`) before anything is stored; the steps are edited as the spec's JSON next
to the action catalog (`catalog.describe_actions`). A refused form comes back as entered with
the service's sentences (step index, action and fix). The list shows each workflow's
failures in the last hour and `engine.alerts` as a banner. A failed run is retried with
`hubdesk.intake.retry.retry_execution`, which runs in a transaction of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.api.problems import describe_request_errors
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake.retry import retry_execution
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import WORKFLOWS_MANAGE
from hubdesk.web.ui import flash, forms, i18n
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render
from hubdesk.workflows import catalog, engine, service
from hubdesk.workflows.models import EXECUTION_STATUSES, Workflow

router = page_router()
MAX_WORKFLOWS: Final = 500
PAGE_SIZE: Final = 50
LAST_HOUR: Final = timedelta(hours=1)
TextField = Annotated[str, Form()]
OptionalField = Annotated[str | None, Form()]


@dataclass(frozen=True, slots=True)
class WorkflowForm:
    """The workflow form as the admin filled it in (kept when the service refuses it)."""

    name: str = ""
    description: str = ""
    classification_trigger: str = "support_request"
    confidence_threshold: str = "0"
    position: str = ""
    enabled: bool = True
    stop_after_match: bool = True
    workflow_steps: str = '[\n  {"action": "create_ticket", "params": {}}\n]'

    @classmethod
    def of(cls, workflow: Workflow) -> WorkflowForm:
        return cls(
            name=workflow.name,
            description=workflow.description,
            classification_trigger=workflow.classification_trigger,
            confidence_threshold=f"{workflow.confidence_threshold:g}",
            position=str(workflow.position),
            enabled=workflow.enabled,
            stop_after_match=workflow.stop_after_match,
            workflow_steps=json.dumps(workflow.workflow_steps, indent=2, ensure_ascii=False),
        )


def workflow_form(
    name: TextField = "",
    description: TextField = "",
    classification_trigger: TextField = "",
    confidence_threshold: TextField = "",
    position: TextField = "",
    enabled: OptionalField = None,
    stop_after_match: OptionalField = None,
    workflow_steps: TextField = "",
) -> WorkflowForm:
    return WorkflowForm(
        name=name,
        description=description,
        classification_trigger=classification_trigger,
        confidence_threshold=confidence_threshold,
        position=position,
        enabled=forms.checked(enabled),
        stop_after_match=forms.checked(stop_after_match),
        workflow_steps=workflow_steps,
    )


FormDep = Annotated[WorkflowForm, Depends(workflow_form)]


def workflow_in(values: WorkflowForm) -> catalog.WorkflowIn:
    """The form as the API's `WorkflowIn`; `ValidationFailed` for what cannot be read."""
    try:
        steps = json.loads(values.workflow_steps)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"workflow_steps is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(steps, list):
        raise ValidationFailed(
            'workflow_steps must be a JSON list of steps: [{"action": ..., "params": {...}}]'
        )
    document = {
        "name": values.name.strip(),
        "description": values.description,
        "classification_trigger": values.classification_trigger.strip(),
        "confidence_threshold": forms.decimal_number(
            values.confidence_threshold, "confidence_threshold"
        ),
        "position": forms.optional_whole_number(values.position, "position"),
        "enabled": values.enabled,
        "stop_after_match": values.stop_after_match,
        "workflow_steps": steps,
    }
    try:
        return catalog.WorkflowIn.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(describe_request_errors(exc.errors())) from None


def _type_of(schema: Mapping[str, Any]) -> str:
    """A parameter's JSON-schema type in a few words: `integer | null`, `"low" | "high"`."""
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "anyOf" in schema:
        return " | ".join(_type_of(part) for part in schema["anyOf"])
    if schema.get("type") == "array":
        return f"[{_type_of(schema.get('items', {}))}, ...]"
    return str(schema.get("type", "any"))


def action_catalog() -> Iterator[dict[str, Any]]:
    """Each action with its parameters: name, type, required, default."""
    for action in catalog.describe_actions():
        schema = action["params"]
        required = set(schema.get("required", ()))
        yield {
            "action": action["action"],
            "description": action["description"],
            "needs_ticket": action["action"] in catalog.TICKET_ACTIONS,
            "params": [
                {
                    "name": name,
                    "type": _type_of(field),
                    "required": name in required,
                    "default": json.dumps(field["default"]) if "default" in field else None,
                }
                for name, field in schema.get("properties", {}).items()
            ],
        }


def form_context(
    session: Session, workflow: Workflow | None, values: WorkflowForm
) -> dict[str, Any]:
    classes = sorted(catalog.known_classes(session) - {"*"})
    trigger = values.classification_trigger
    if trigger and trigger != "*" and trigger not in classes:
        classes.append(trigger)
    return {
        "workflow": workflow,
        "values": values,
        "classes": classes,
        "actions": list(action_catalog()),
        "problems": [],
    }


def alerts(session: Session, runtime: Runtime) -> list[dict[str, object]]:
    return engine.alerts(session, runtime.settings.workflow_failure_alert_threshold)


@router.get("/admin/workflows")
def workflow_list(
    request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    viewer.principal.require(WORKFLOWS_MANAGE)
    found = service.list_workflows(session, limit=MAX_WORKFLOWS, offset=0)
    rows = [(w, engine.recent_failures(session, w.id, LAST_HOUR)) for w in found.items]
    return render(
        request,
        "admin_workflows.html",
        {
            "rows": rows,
            "total": found.total,
            "alerts": alerts(session, runtime),
            "engine_enabled": runtime.settings.email_workflows_enabled,
        },
    )


@router.get("/admin/workflows/new")
def new_workflow(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    viewer.principal.require(WORKFLOWS_MANAGE)
    return render(request, "admin_workflow.html", form_context(session, None, WorkflowForm()))


@router.post("/admin/workflows")
def create_workflow(
    request: Request, session: SessionDep, viewer: ViewerDep, values: FormDep
) -> Response:
    viewer.principal.require(WORKFLOWS_MANAGE)
    try:
        workflow = service.create(session, viewer.principal, workflow_in(values))
    except (ValidationFailed, Conflict) as exc:
        form_refused(
            request,
            "admin_workflow.html",
            form_context(session, None, values),
            i18n.said(language_of(request), exc),
        )
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, "/admin/workflows", _("Workflow {name} saved.", name=workflow.name)
    )


@router.get("/admin/workflows/{workflow_id}")
def workflow_page(
    request: Request, workflow_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    viewer.principal.require(WORKFLOWS_MANAGE)
    workflow = service.get(session, workflow_id)
    context = form_context(session, workflow, WorkflowForm.of(workflow))
    return render(request, "admin_workflow.html", context)


@router.post("/admin/workflows/{workflow_id}")
def update_workflow(
    request: Request, workflow_id: int, session: SessionDep, viewer: ViewerDep, values: FormDep
) -> Response:
    viewer.principal.require(WORKFLOWS_MANAGE)
    workflow = service.get(session, workflow_id)
    try:
        service.update(session, viewer.principal, workflow, workflow_in(values))
    except (ValidationFailed, Conflict) as exc:
        context = form_context(session, workflow, values)
        form_refused(request, "admin_workflow.html", context, i18n.said(language_of(request), exc))
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, "/admin/workflows", _("Workflow {name} saved.", name=workflow.name)
    )


@router.post("/admin/workflows/{workflow_id}/delete")
def delete_workflow(
    request: Request, workflow_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    viewer.principal.require(WORKFLOWS_MANAGE)
    workflow = service.get(session, workflow_id)
    name = workflow.name
    service.delete(session, viewer.principal, workflow)
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, "/admin/workflows", _("Workflow {name} deleted.", name=name))


@router.get("/admin/workflow-executions")
def executions(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    status: str = "failed",
    workflow_id: int | None = None,
    inbound_id: int | None = None,
    page: int = 1,
) -> Response:
    """Runs, newest first: failed ones by default (`status=` for every status)."""
    viewer.principal.require(WORKFLOWS_MANAGE)
    page = max(page, 1)
    found = service.list_executions(
        session,
        status=status or None,
        workflow_id=workflow_id,
        inbound_id=inbound_id,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    email_ids = {e.inbound_id for e in found.items if e.inbound_id is not None}
    ticket_ids = {e.ticket_id for e in found.items if e.ticket_id is not None}
    emails = {
        row.id: row
        for row in session.scalars(select(InboundMessage).where(InboundMessage.id.in_(email_ids)))
    }
    tickets = {
        row.id: row for row in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))
    }
    scope = {"workflow_id": workflow_id, "inbound_id": inbound_id}
    kept = {k: v for k, v in scope.items() if v is not None}

    def url(**changes: Any) -> str:
        return "/admin/workflow-executions?" + urlencode({"status": status, **kept, **changes})

    return render(
        request,
        "admin_workflow_executions.html",
        {
            "status": status,
            "statuses": EXECUTION_STATUSES,
            "found": found,
            "emails": emails,
            "tickets": tickets,
            "scope": kept,
            "scoped_workflow": service.get(session, workflow_id) if workflow_id else None,
            "alerts": alerts(session, runtime),
            "page": page,
            "pages": max(1, -(-found.total // PAGE_SIZE)),
            "page_url": lambda n: url(page=n),
            "status_url": lambda s: (
                "/admin/workflow-executions?" + urlencode({"status": s, **kept})
            ),
        },
    )


@router.post("/admin/workflow-executions/{execution_id}/retry")
def retry(
    request: Request,
    execution_id: int,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    back: TextField = "/admin/workflow-executions",
) -> Response:
    """Run the failed execution's workflow again on its email (a new run)."""
    new_id = retry_execution(runtime, viewer.principal, execution_id)
    with runtime.db.transaction(write=False) as session:
        execution = service.get_execution(session, new_id)
        status, error = execution.status, execution.error
    _ = i18n.translator(language_of(request))
    target = flash.safe_local_path(back, "/admin/workflow-executions")
    if status == "failed":
        message = _("The retry failed again: {error}", error=error or "")
        return flash.redirect(request, target, message, kind="error")
    return flash.redirect(request, target, _("Retried: the new run completed."))
