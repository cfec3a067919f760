"""The JSON shape of every report (`GET /api/v1/reports/{name}`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from hubdesk.reports.service import Report

Cell = str | int | float | None


class ReportFilters(BaseModel):
    customer_id: int | None = Field(description="Only this customer's tickets, or null")
    priority: str | None = Field(description="Only tickets of this priority, or null")
    team_id: int | None = Field(
        default=None, description="Only this team's tickets (a group id), or null"
    )


class ReportOut(BaseModel):
    """One report. `rows` are objects whose keys are `columns`, in that order; `totals` has
    the same keys (null where a total means nothing) or is null. The columns of each
    report are listed in docs/reports.md: volume (period, created, resolved, backlog),
    response-times (period, first_response_count/median_hours/p90_hours,
    resolution_count/median_hours/p90_hours), sla (dimension policy|customer|agent|team,
    id, name, tickets, met, breached, attainment_percent), customers (customer_id, customer,
    created, resolved, worklog_hours, billable_hours, prepaid_hours), agents (user_id, agent,
    assigned, resolved, first_response_median_hours, first_response_p90_hours,
    resolution_median_hours, worklog_hours), prepaid (customer_id, customer, cards,
    active_cards, hours_bought, used_in_period_hours, used_total_hours, remaining_hours).
    Hours are business hours where docs/reports.md says so."""

    report: Literal["volume", "response-times", "sla", "customers", "agents", "prepaid"]
    from_: date = Field(alias="from", description="First day of the period (UTC)")
    to: date = Field(description="Last day of the period, included (UTC)")
    interval: Literal["day", "week"] = Field(
        description="Bucket size of the reports by period; weeks start on Monday"
    )
    filters: ReportFilters
    columns: list[str]
    rows: list[dict[str, Cell]]
    totals: dict[str, Cell] | None
    notes: list[str] = Field(description="Facts worth knowing, e.g. the starting backlog")

    model_config = {"populate_by_name": True}


def report_out(report: Report) -> ReportOut:
    p = report.params
    return ReportOut.model_validate(
        {
            "report": report.name,
            "from": p.start_date,
            "to": p.end_date,
            "interval": p.interval,
            "filters": p.filters(),
            "columns": report.columns,
            "rows": report.rows,
            "totals": report.totals,
            "notes": report.notes,
        }
    )
