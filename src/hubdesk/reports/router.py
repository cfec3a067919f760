"""`GET /api/v1/reports/{name}`: a report as JSON, or as CSV with `format=csv`
(permission `reports.view`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from hubdesk.access.deps import PrincipalDep, RuntimeDep, SessionDep
from hubdesk.api.downloads import attachment_response
from hubdesk.api.limits import Id
from hubdesk.db.types import utcnow
from hubdesk.reports import csv_export, params, service
from hubdesk.reports.schemas import ReportOut, report_out
from hubdesk.users.permissions import REPORTS_VIEW

router = APIRouter(prefix="/reports", tags=["reports"])

ReportName = Literal["volume", "response-times", "sla", "customers", "agents", "prepaid"]


@router.get(
    "/{name}",
    response_model=ReportOut,
    response_model_by_alias=True,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The report as JSON, or as CSV (an attachment) with format=csv",
        }
    },
)
def get_report(
    name: str,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    from_: Annotated[
        str | None,
        Query(alias="from", description="First day, YYYY-MM-DD (default: 29 days before to)"),
    ] = None,
    to: Annotated[
        str | None, Query(description="Last day, included, YYYY-MM-DD (default: today)")
    ] = None,
    interval: Annotated[
        Literal["day", "week"] | None,
        Query(description="Bucket size (default: day, week for periods of 93 days or more)"),
    ] = None,
    customer_id: Id | None = None,
    priority: Annotated[Literal["low", "normal", "high", "critical"] | None, Query()] = None,
    team_id: Annotated[
        Id | None, Query(description="Only this team's tickets (a group id, docs/teams.md)")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> Response:
    """One report over a period of at most 366 days. Names: volume, response-times, sla,
    customers, agents, prepaid (unknown names answer 404)."""
    principal.require(REPORTS_VIEW)
    service.check_name(name)
    checked = params.check(
        from_=from_,
        to=to,
        interval=interval,
        customer_id=customer_id,
        priority=priority,
        team_id=team_id,
        today=runtime.today(),
    )
    report = service.run(session, principal, name, checked, utcnow())
    if format == "csv":
        return attachment_response(
            csv_export.to_csv(report).encode("utf-8"),
            filename=csv_export.filename(report),
            content_type="text/csv",
        )
    return JSONResponse(report_out(report).model_dump(mode="json", by_alias=True))
