"""`GET /reports`: one report at a time with its filters, SVG charts, the numbers as a table
and a CSV download link (`reports.view`). The numbers come from `hubdesk.reports.service`,
the same code as `GET /api/v1/reports/{name}`; a bad filter is shown on the form (422) with
what the user typed kept."""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Query, Request
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.customers import service as customers
from hubdesk.db.types import utcnow
from hubdesk.errors import ValidationFailed
from hubdesk.reports import params, service
from hubdesk.reports.service import Report
from hubdesk.tickets.states import PRIORITIES
from hubdesk.users import teams
from hubdesk.users.permissions import REPORTS_VIEW
from hubdesk.web.ui import forms, i18n, labels
from hubdesk.web.ui.i18n import Translate
from hubdesk.web.ui.routing import ViewerDep, page_router
from hubdesk.web.ui.svg_charts import Series, bar_chart
from hubdesk.web.ui.templating import language_of, render

router = page_router()
TOP: Final = 15
"""Charts by customer or agent show the first TOP rows (the table shows them all)."""
CUSTOMER_CHOICES: Final = 500


@router.get("/reports")
def reports_page(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    report: Annotated[str, Query(max_length=40)] = "volume",
    from_: Annotated[str, Query(alias="from", max_length=40)] = "",
    to: Annotated[str, Query(max_length=40)] = "",
    interval: Annotated[str, Query(max_length=10)] = "",
    customer_id: Annotated[str, Query(max_length=12)] = "",
    priority: Annotated[str, Query(max_length=20)] = "",
    team_id: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    principal = viewer.principal
    principal.require(REPORTS_VIEW)
    form = {
        "report": report,
        "from": from_,
        "to": to,
        "interval": interval,
        "customer_id": customer_id,
        "priority": priority,
        "team_id": team_id,
    }
    error: str | None = None
    result: Report | None = None
    try:
        if report not in service.REPORTS:
            raise ValidationFailed(f"report {report!r} does not exist; choose one from the list")
        name = report
        customer = _customer_id(customer_id)
        team = forms.optional_id(team_id, "team")
        checked = params.check(
            from_=from_.strip() or None,
            to=to.strip() or None,
            interval=interval or None,
            customer_id=customer,
            priority=priority or None,
            team_id=team,
            today=runtime.today(),
        )
        result = service.run(session, principal, name, checked, utcnow())
    except ValidationFailed as exc:
        error = str(exc)
    choices = customers.list_customers(
        session, principal, q=None, limit=CUSTOMER_CHOICES, offset=0
    ).items
    translate = _translator(request)
    context: dict[str, Any] = {
        "form": form,
        "error": error,
        "reports": labels.REPORT_TITLE,
        "priorities": PRIORITIES,
        "customers": choices,
        "teams": teams.team_names(session),
        "result": result,
        "charts": _charts(result, translate) if result else [],
        "empty_cell": lambda row, column: (
            empty_cell(result.name, row, column, translate) if result else "–"
        ),
        "csv_url": _csv_url(result) if result else None,
    }
    return render(request, "reports.html", context, status=422 if error else 200)


def _translator(request: Request) -> Translate:
    return i18n.translator(language_of(request))


def _customer_id(value: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit() or not 0 < int(value) < 2**31:
        raise ValidationFailed(f"customer {value!r} is not a customer id")
    return int(value)


def _csv_url(report: Report) -> str:
    p = report.params
    query: dict[str, str] = {
        "from": p.start_date.isoformat(),
        "to": p.end_date.isoformat(),
        "interval": p.interval,
        "format": "csv",
    }
    if p.customer_id is not None:
        query["customer_id"] = str(p.customer_id)
    if p.priority is not None:
        query["priority"] = p.priority
    if p.team_id is not None:
        query["team_id"] = str(p.team_id)
    return f"/api/v1/reports/{report.name}?{urlencode(query)}"


NOBODY: dict[str, str] = {
    "agent": "Unassigned",
    "customer": "No customer",
    "team": "No team",
}
"""What a group without an agent, a customer or a team is called (charts and the table)."""


def _who(row: dict[str, Any], column: str, _: Translate) -> str:
    """A row's name in `column` for a chart's axis, or what its missing name means: the sla
    report's `name` by the row's dimension."""
    value = row.get(column)
    if value is not None:
        return str(value)
    missing = NOBODY.get(str(row.get("dimension")) if column == "name" else column)
    return _(missing) if missing else "–"


def empty_cell(report: str, row: dict[str, Any], column: str, _: Translate) -> str:
    """The table's text for a missing value: the unassigned agent, the tickets without a
    customer or a team where the row's name is missing; "–" elsewhere."""
    named = {"agents": "agent", "customers": "customer", "prepaid": "customer", "sla": "name"}
    if named.get(report) == column:
        return _who(row, column, _)
    return "–"


def _column(rows: list[dict[str, Any]], key: str) -> list[float | int | None]:
    return [row.get(key) for row in rows]


def _charts(report: Report, _: Translate) -> list[Any]:
    rows = report.rows
    if report.name == "volume":
        periods = [str(r["period"]) for r in rows]
        return [
            bar_chart(
                _("Tickets created and resolved"),
                _("Tickets created and resolved per period; the table below has the numbers."),
                periods,
                [
                    Series(_("Created"), _column(rows, "created")),
                    Series(_("Resolved"), _column(rows, "resolved")),
                ],
            ),
            bar_chart(
                _("Backlog"),
                _("Open tickets at the end of each period; the table below has the numbers."),
                periods,
                [Series(_("Backlog"), _column(rows, "backlog"))],
            ),
        ]
    if report.name == "response-times":
        periods = [str(r["period"]) for r in rows]
        return [
            bar_chart(
                _("First response (business hours)"),
                _("Median and 90th percentile per period; the table below has the numbers."),
                periods,
                [
                    Series(_("Median"), _column(rows, "first_response_median_hours")),
                    Series(_("90th percentile"), _column(rows, "first_response_p90_hours")),
                ],
            ),
            bar_chart(
                _("Resolution (business hours)"),
                _("Median and 90th percentile per period; the table below has the numbers."),
                periods,
                [
                    Series(_("Median"), _column(rows, "resolution_median_hours")),
                    Series(_("90th percentile"), _column(rows, "resolution_p90_hours")),
                ],
            ),
        ]
    if report.name == "sla":
        charts = []
        for dimension, title in labels.REPORT_DIMENSION.items():
            picked = [r for r in rows if r["dimension"] == dimension][:TOP]
            if picked:
                charts.append(
                    bar_chart(
                        _("SLA attainment by {what} (%)", what=_(title).lower()),
                        _("Share of tickets that met every target; the table has the numbers."),
                        [_who(r, "name", _) for r in picked],
                        [Series(_("Attained (%)"), _column(picked, "attainment_percent"))],
                    )
                )
        return charts
    picked = rows[:TOP]
    if report.name == "customers":
        return [
            bar_chart(
                _("Hours logged by customer"),
                _("Hours logged and prepaid hours used; the table has the numbers."),
                [_who(r, "customer", _) for r in picked],
                [
                    Series(_("Hours logged"), _column(picked, "worklog_hours")),
                    Series(_("Prepaid hours"), _column(picked, "prepaid_hours")),
                ],
            )
        ]
    if report.name == "agents":
        return [
            bar_chart(
                _("Tickets by agent"),
                _("Tickets assigned and resolved; the table has the numbers."),
                [_who(r, "agent", _) for r in picked],
                [
                    Series(_("Assigned"), _column(picked, "assigned")),
                    Series(_("Resolved"), _column(picked, "resolved")),
                ],
            )
        ]
    return [
        bar_chart(
            _("Prepaid hours by customer"),
            _("Hours used in the period and hours remaining; the table has the numbers."),
            [_who(r, "customer", _) for r in picked],
            [
                Series(_("Used in period (h)"), _column(picked, "used_in_period_hours")),
                Series(_("Remaining (h)"), _column(picked, "remaining_hours")),
            ],
        )
    ]
