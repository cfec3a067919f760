"""The reports. Each one is a few SQL aggregates (GROUP BY date buckets, customers, agents,
policies; percentiles in SQL) whose small results are put together here: no loop in Python
ever runs over tickets, emails or worklogs. See docs/reports.md for what each one counts.

Common rules: deleted tickets and tickets merged into another are left out; a ticket belongs
to the period by its `created_at` (volume's "resolved" and the resolved counts go by
`resolved_at`, worklog hours by the worklog's `work_date`, prepaid use by the draw-down's
worklog date). Days and weeks are UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from hubdesk.db.types import UTCDateTime
from hubdesk.errors import NotFound
from hubdesk.reports import business_time
from hubdesk.reports.dialect import Dialect, day_key
from hubdesk.reports.params import ReportParams
from hubdesk.sla import report_facts
from hubdesk.sla import service as sla_service
from hubdesk.sla.models import SlaPolicy
from hubdesk.sla.service import calendar_of
from hubdesk.users.permissions import REPORTS_VIEW, Principal

Cell = str | int | float | None
Row = dict[str, Cell]
Durations = tuple[int, float | None, float | None]


@dataclass
class Report:
    name: str
    params: ReportParams
    columns: list[str]
    rows: list[Row]
    totals: Row | None = None
    notes: list[str] = field(default_factory=list)


def _uses(sql: str, name: str) -> bool:
    return re.search(rf":{name}\b", sql) is not None


def _hours(minutes: float | int | None) -> float | None:
    return None if minutes is None else round(float(minutes) / 60, 2)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


class _Query:
    """One report's SQL context: the dialect, the period and the ticket filters."""

    def __init__(
        self, session: Session, params: ReportParams, now: datetime, *, use_facts: bool = True
    ) -> None:
        self.session = session
        self.params = params
        self.now = now
        self.use_facts = use_facts
        """False: compute every ticket's business time at request time (the reference the
        per-ticket facts are tested against)."""
        self.d = Dialect(session.get_bind().dialect.name)

    def ticket_filter(self, alias: str = "t") -> str:
        out = [f"{alias}.deleted_at IS NULL", f"{alias}.merged_into_id IS NULL"]
        if self.params.customer_id is not None:
            out.append(f"{alias}.customer_id = :customer_id")
        if self.params.priority is not None:
            out.append(f"{alias}.priority = :priority")
        if self.params.team_id is not None:
            out.append(f"{alias}.team_id = :team_id")
        return " AND ".join(out)

    def run(self, sql: str, **extra: Any) -> Sequence[Any]:
        values: dict[str, Any] = {
            "start": self.params.start,
            "end": self.params.end,
            "now": self.now,
            "customer_id": self.params.customer_id,
            "priority": self.params.priority,
            "team_id": self.params.team_id,
            "start_day": self.params.start_date,
            "end_day": self.params.end_date,
            **extra,
        }
        statement = text(sql).bindparams(
            *(
                bindparam(name, type_=UTCDateTime())
                for name in ("start", "end", "now", "table_end")
                if _uses(sql, name)
            )
        )
        used = {k: v for k, v in values.items() if _uses(sql, k)}
        return self.session.execute(statement, used).all()

    # --- business durations ----------------------------------------------------------

    def durations(self, group: str, label: str | None = None) -> dict[tuple[str, Any], Durations]:
        """(metric, group) -> (count, median, p90) of the business minutes from creation to
        the first response (metric "first_response") and to the resolution ("resolution")
        of the period's tickets, grouped by the SQL expression `group` (over alias t; on
        SQLite a non-negative integer, which the SQL template `label` turns back into the
        key returned, see Dialect.percentiles) and overall (group None)."""
        policies = self.session.scalars(select(SlaPolicy).order_by(SlaPolicy.id)).all()
        table = business_time.build(
            [(p.id, calendar_of(p)) for p in policies],
            self.params.start,
            business_time.span_end(self.params.end, self.now),
        )
        d = self.d
        last = table.last - 1

        def clamp(column: str) -> str:
            # LEAST ignores NULL on PostgreSQL (SQLite's MIN returns it): keep NULL NULL.
            bounded = d.least(d.epoch(column), str(last))
            return f"CASE WHEN {column} IS NULL THEN NULL ELSE {bounded} END"

        def business(a: str, alias_a: str, b: str, alias_b: str) -> str:
            wall = d.greatest(f"{b} - {a}", "0")
            cum_b = table.cumulative(alias_b, b, d)
            cum_a = table.cumulative(alias_a, a, d)
            return (
                f"CASE WHEN {b} IS NULL THEN NULL "
                f"WHEN {alias_a}.p IS NULL OR {alias_b}.p IS NULL THEN {wall} "
                f"ELSE {d.greatest(f'({cum_b}) - ({cum_a})', '0')} END"
            )

        day, keys = business_time.DAY, business_time.KEY_DAYS
        if d.pg:
            # The calendar CTE has no statistics, the join's row estimate is far too high
            # and would switch JIT compilation on (seconds at 200,000 tickets, for nothing).
            self.session.execute(text("SET LOCAL jit = off"))
            # The percentiles sort every duration: in memory, not in a file (4 MB default).
            self.session.execute(text("SET LOCAL work_mem = '64MB'"))
            cal, with_cal = "cal", table.cte() + ","
        else:
            cal, with_cal = table.load_temp(self.session), ""
        # A ticket whose stored facts (sla/report_facts.py, on its row, read from the covering
        # period index) were computed from its current creation, response and resolution
        # times and a current policy's calendar takes them as they are; every other ticket
        # is computed here from the calendar table, with its clock's policy (a join for those
        # few rows only). A ticket with neither a response nor a resolution has nothing to
        # measure (both its durations are NULL) and is left out at once.
        stamps = ", ".join(
            f"'{s}'" for s in (*(sla_service.report_stamp(p) for p in policies), report_facts.WALL)
        )
        same = f"t.report_stamp IN ({stamps}) AND t.report_created_at = t.created_at"
        fresh = (
            f"{same} "
            "AND (t.report_first_at = t.first_response_at "
            "OR (t.report_first_at IS NULL AND t.first_response_at IS NULL)) "
            "AND (t.report_resolved_at = t.resolved_at "
            "OR (t.report_resolved_at IS NULL AND t.resolved_at IS NULL)) "
            "AND (t.first_response_at IS NULL OR t.first_response_at < :table_end) "
            "AND (t.resolved_at IS NULL OR t.resolved_at < :table_end)"
        )
        # One metric's fact depends on the creation and that metric's moment only (SQLite
        # checks each where its metric's rows are read, the moment being there).
        fresh_first = (
            f"{same} AND t.report_first_at = t.first_response_at "
            "AND t.first_response_at < :table_end"
        )
        fresh_resolved = (
            f"{same} AND t.report_resolved_at = t.resolved_at AND t.resolved_at < :table_end"
        )
        if not self.use_facts:
            fresh = fresh_first = fresh_resolved = "1 = 0"
        flags = (
            f"CASE WHEN {fresh} THEN 1 ELSE 0 END AS fresh"
            if d.pg
            else f"CASE WHEN {fresh_first} THEN 1 ELSE 0 END AS fresh_first, "
            f"CASE WHEN {fresh_resolved} THEN 1 ELSE 0 END AS fresh_resolved"
        )
        src = f"""
src AS {"MATERIALIZED" if d.pg else "NOT MATERIALIZED"} (
    SELECT {group} AS g, t.id AS id, t.created_at AS created_at,
           t.first_response_at AS first_response_at, t.resolved_at AS resolved_at,
           t.report_first_s AS ffs, t.report_resolution_s AS frs,
           {flags}
    FROM tticket_tickets t
    WHERE t.created_at >= :start AND t.created_at < :end AND {self.ticket_filter()}
    AND (t.first_response_at IS NOT NULL OR t.resolved_at IS NOT NULL)
)"""
        if d.pg:
            # PostgreSQL keeps the one scan's rows (measured ~15 % faster than scanning
            # twice) and computes the stale ones in a join with their clocks.
            sql = f"""
WITH {with_cal}{src},
moments AS (
    SELECT src.g AS g, ck.policy_id AS p, {clamp("src.created_at")} AS a,
           {clamp("src.first_response_at")} AS f, {clamp("src.resolved_at")} AS r
    FROM src LEFT JOIN sla_ticket_clocks ck ON ck.ticket_id = src.id WHERE src.fresh = 0
),
base AS MATERIALIZED (
    SELECT g, p, a, f, r, p * {keys} + a / {day} AS ak, p * {keys} + f / {day} AS fk,
           p * {keys} + r / {day} AS rk
    FROM moments
),
spans AS NOT MATERIALIZED (
    SELECT base.g AS g,
           {business("base.a", "ca", "base.f", "cf")} AS fr,
           {business("base.a", "ca", "base.r", "cr")} AS rs
    FROM base
    LEFT JOIN {cal} cf ON cf.k = base.fk
    LEFT JOIN {cal} cr ON cr.k = base.rk
    LEFT JOIN {cal} ca ON ca.k = base.ak
    UNION ALL
    SELECT g, ffs, frs FROM src WHERE fresh = 1
){d.percentiles("spans", "g", {"first_response": "fr", "resolution": "rs"}, label)}
"""
        else:
            # SQLite: one scan of the covering index per metric, each row giving its value
            # in long form straight to the histogram: a fresh ticket its stored fact, a
            # stale one (rare) the business time computed by a correlated subquery over its
            # clock and the calendar table, evaluated for that row only. At 200,000 tickets
            # (bench/README.md, "Reports") about a fifth less CPU (506 vs 623 ms, best of 12)
            # than reading the period twice into a wide row joined to the metrics' positions.
            def stale(moment: str) -> str:
                return (
                    f"(SELECT {business('x.a', 'ca', 'x.b', 'cb')} FROM (SELECT "
                    f"ck.policy_id AS p, {clamp('src.created_at')} AS a, {clamp(moment)} AS b "
                    f"FROM (SELECT 1) one LEFT JOIN sla_ticket_clocks ck "
                    f"ON ck.ticket_id = src.id) x "
                    f"LEFT JOIN {cal} ca ON ca.k = x.p * {keys} + x.a / {day} "
                    f"LEFT JOIN {cal} cb ON cb.k = x.p * {keys} + x.b / {day})"
                )

            sql = f"""
WITH {src},
spans AS NOT MATERIALIZED (
    SELECT 0 AS i, src.g AS g,
           CASE WHEN src.fresh_first = 1 THEN src.ffs ELSE {stale("src.first_response_at")} END AS s
    FROM src WHERE src.first_response_at IS NOT NULL
    UNION ALL
    SELECT 1, src.g,
           CASE WHEN src.fresh_resolved = 1 THEN src.frs ELSE {stale("src.resolved_at")} END
    FROM src WHERE src.resolved_at IS NOT NULL
){d.histogram_percentiles("spans", "g", ["first_response", "resolution"], label)}
"""
        table_end = datetime.fromtimestamp(table.last, UTC)
        return {
            (row.m, day_key(row.g)): (int(row.n), float(row.median), float(row.p90))
            for row in self.run(sql, table_end=table_end)
        }


# --- the reports ---------------------------------------------------------------------


def _bucket_counts(q: _Query, column: str) -> dict[Any, int]:
    """Tickets whose `column` falls in the period, per bucket ('YYYY-MM-DD' -> count). The
    bucket is grouped by its key (an integer day on SQLite, cheaper to compute and sort
    than date text) and labelled on the grouped rows only."""
    key, label = q.d.bucket_key(f"t.{column}", q.params.interval)
    counted = (
        f"SELECT {key} AS b, COUNT(*) AS n FROM tticket_tickets t "
        f"WHERE t.{column} >= :start AND t.{column} < :end AND {q.ticket_filter()} "
        f"GROUP BY {key}"
    )
    if label is not None:
        counted = f"SELECT {label.format('c.b')} AS b, c.n AS n FROM ({counted}) c"
    return {day_key(row.b): int(row.n) for row in q.run(counted)}


def volume(q: _Query) -> Report:
    p = q.params
    flt = q.ticket_filter()
    created = _bucket_counts(q, "created_at")
    resolved = _bucket_counts(q, "resolved_at")
    (initial,) = q.run(
        f"SELECT COUNT(*) AS n FROM tticket_tickets t WHERE t.created_at < :start "
        f"AND (t.resolved_at IS NULL OR t.resolved_at >= :start) AND {flt}"
    )
    backlog = int(initial.n)
    rows: list[Row] = []
    for bucket in p.buckets():
        key = bucket.isoformat()
        made, done = created.get(key, 0), resolved.get(key, 0)
        backlog += made - done
        rows.append({"period": key, "created": made, "resolved": done, "backlog": backlog})
    totals: Row = {
        "period": "total",
        "created": sum(created.values()),
        "resolved": sum(resolved.values()),
        "backlog": backlog,
    }
    return Report(
        "volume",
        p,
        ["period", "created", "resolved", "backlog"],
        rows,
        totals,
        [f"backlog at the start: {int(initial.n)}"],
    )


DURATION_COLUMNS: Final = [
    "first_response_count",
    "first_response_median_hours",
    "first_response_p90_hours",
    "resolution_count",
    "resolution_median_hours",
    "resolution_p90_hours",
]


def _duration_cells(found: Mapping[tuple[str, Any], Durations], key: Any) -> Row:
    out: Row = {}
    for metric in ("first_response", "resolution"):
        n, median, p90 = found.get((metric, key), (0, None, None))
        out[f"{metric}_count"] = n
        out[f"{metric}_median_hours"] = _hours(median)
        out[f"{metric}_p90_hours"] = _hours(p90)
    return out


def response_times(q: _Query) -> Report:
    p = q.params
    found = q.durations(*q.d.bucket_key("t.created_at", p.interval))
    rows = [{"period": b.isoformat(), **_duration_cells(found, b.isoformat())} for b in p.buckets()]
    totals = {"period": "total", **_duration_cells(found, None)}
    return Report("response-times", p, ["period", *DURATION_COLUMNS], rows, totals)


def sla(q: _Query) -> Report:
    d = q.d
    met = (
        f"CASE WHEN {d.json_length('ck.missed')} = 0 AND NOT (ck.stopped_at IS NULL "
        f"AND ck.next_due_at IS NOT NULL AND ck.next_due_at < :now) THEN 1 ELSE 0 END"
    )
    base = (
        f"SELECT ck.policy_id AS policy_id, t.customer_id AS customer_id, "
        f"t.assigned_to_user_id AS agent_id, t.team_id AS team_id, {met} AS met "
        f"FROM tticket_tickets t JOIN sla_ticket_clocks ck ON ck.ticket_id = t.id "
        f"WHERE t.created_at >= :start AND t.created_at < :end AND ck.policy_id IS NOT NULL "
        f"AND {q.ticket_filter()}"
    )
    # Counted by id first, named after: the names join the few grouped rows, not every ticket.
    sql = f"""
WITH base AS ({base})
SELECT 'policy' AS dim, a.k AS k, sp.name AS name, a.n AS n, a.met AS met
FROM (SELECT policy_id AS k, COUNT(*) AS n, SUM(met) AS met FROM base GROUP BY policy_id) a
JOIN sla_policies sp ON sp.id = a.k
UNION ALL
SELECT 'customer', a.k, c.name, a.n, a.met
FROM (SELECT customer_id AS k, COUNT(*) AS n, SUM(met) AS met FROM base GROUP BY customer_id) a
LEFT JOIN customers c ON c.id = a.k
UNION ALL
SELECT 'agent', a.k, u.email, a.n, a.met
FROM (SELECT agent_id AS k, COUNT(*) AS n, SUM(met) AS met FROM base GROUP BY agent_id) a
LEFT JOIN users u ON u.id = a.k
UNION ALL
SELECT 'team', a.k, g.name, a.n, a.met
FROM (SELECT team_id AS k, COUNT(*) AS n, SUM(met) AS met FROM base GROUP BY team_id) a
LEFT JOIN groups g ON g.id = a.k
"""
    order = {"policy": 0, "customer": 1, "agent": 2, "team": 3}
    rows: list[Row] = []
    total = total_met = 0
    for row in sorted(
        q.run(sql), key=lambda r: (order[r.dim], r.name is None, r.name or "", r.k or 0)
    ):
        n, ok = int(row.n), int(row.met or 0)
        if row.dim == "policy":
            total, total_met = total + n, total_met + ok
        rows.append(
            {
                "dimension": row.dim,
                "id": row.k,
                "name": row.name,
                "tickets": n,
                "met": ok,
                "breached": n - ok,
                "attainment_percent": _pct(ok, n),
            }
        )
    totals: Row = {
        "dimension": "total",
        "id": None,
        "name": None,
        "tickets": total,
        "met": total_met,
        "breached": total - total_met,
        "attainment_percent": _pct(total_met, total),
    }
    columns = ["dimension", "id", "name", "tickets", "met", "breached", "attainment_percent"]
    return Report("sla", q.params, columns, rows, totals)


def _worklog_sums(q: _Query, key: str) -> dict[Any, Any]:
    """Worklog minutes in the period by `key` (an expression over w and t)."""
    sql = (
        f"SELECT {key} AS k, SUM(w.minutes) AS total, "
        f"SUM(CASE WHEN w.billable THEN w.minutes ELSE 0 END) AS billable, "
        f"SUM(CASE WHEN w.billing = 'prepaid' THEN w.minutes ELSE 0 END) AS prepaid "
        f"FROM tticket_worklogs w JOIN tticket_tickets t ON t.id = w.ticket_id "
        f"WHERE w.work_date >= :start_day AND w.work_date <= :end_day "
        f"AND t.deleted_at IS NULL AND {q.ticket_filter()} GROUP BY {key}"
    )
    return {row.k: row for row in q.run(sql)}


def _counts(q: _Query, key: str, column: str) -> dict[Any, int]:
    sql = (
        f"SELECT {key} AS k, COUNT(*) AS n FROM tticket_tickets t "
        f"WHERE t.{column} >= :start AND t.{column} < :end AND {q.ticket_filter()} "
        f"GROUP BY {key}"
    )
    return {row.k: int(row.n) for row in q.run(sql)}


def _names(q: _Query, table: str, column: str, ids: set[Any]) -> dict[Any, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    sql = text(f"SELECT id, {column} AS name FROM {table} WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    return {row.id: row.name for row in q.session.execute(sql, {"ids": wanted})}


def customers(q: _Query) -> Report:
    created = _counts(q, "t.customer_id", "created_at")
    resolved = _counts(q, "t.customer_id", "resolved_at")
    work = _worklog_sums(q, "t.customer_id")
    keys = set(created) | set(resolved) | set(work)
    names = _names(q, "customers", "name", keys)
    rows: list[Row] = []
    for key in keys:
        w = work.get(key)
        rows.append(
            {
                "customer_id": key,
                "customer": names.get(key),
                "created": created.get(key, 0),
                "resolved": resolved.get(key, 0),
                "worklog_hours": _hours(w.total if w else 0),
                "billable_hours": _hours(w.billable if w else 0),
                "prepaid_hours": _hours(w.prepaid if w else 0),
            }
        )
    rows.sort(
        key=lambda r: (-int(r["created"] or 0), str(r["customer"] or "~"), r["customer_id"] or 0)
    )
    columns = [
        "customer_id",
        "customer",
        "created",
        "resolved",
        "worklog_hours",
        "billable_hours",
        "prepaid_hours",
    ]
    return Report("customers", q.params, columns, rows, _sum_totals(rows, columns, "customer_id"))


def _sum_totals(rows: list[Row], columns: list[str], label: str) -> Row:
    totals: Row = dict.fromkeys(columns)
    totals[label] = "total"
    for column in columns[2:]:
        values = [r[column] for r in rows if isinstance(r[column], int | float)]
        total = sum(values)  # type: ignore[arg-type]
        totals[column] = round(total, 2) if isinstance(total, float) else total
    return totals


def agents(q: _Query) -> Report:
    assigned = _counts(q, "t.assigned_to_user_id", "created_at")
    resolved = _counts(q, "t.assigned_to_user_id", "resolved_at")
    work = _worklog_sums(q, "w.user_id")
    found = q.durations("t.assigned_to_user_id")
    keys = set(assigned) | set(resolved) | set(work)
    names = _names(q, "users", "email", keys)
    rows: list[Row] = []
    for key in keys:
        w = work.get(key)
        cells = _duration_cells(found, key)
        rows.append(
            {
                "user_id": key,
                "agent": names.get(key),
                "assigned": assigned.get(key, 0),
                "resolved": resolved.get(key, 0),
                "first_response_median_hours": cells["first_response_median_hours"],
                "first_response_p90_hours": cells["first_response_p90_hours"],
                "resolution_median_hours": cells["resolution_median_hours"],
                "worklog_hours": _hours(w.total if w else 0),
            }
        )
    rows.sort(key=lambda r: (r["user_id"] is None, str(r["agent"] or ""), r["user_id"] or 0))
    columns = [
        "user_id",
        "agent",
        "assigned",
        "resolved",
        "first_response_median_hours",
        "first_response_p90_hours",
        "resolution_median_hours",
        "worklog_hours",
    ]
    totals: Row = dict.fromkeys(columns)
    totals["user_id"] = "total"
    for column in ("assigned", "resolved"):
        totals[column] = sum(int(r[column] or 0) for r in rows)
    totals["worklog_hours"] = round(sum(float(r["worklog_hours"] or 0) for r in rows), 2)
    overall = _duration_cells(found, None)
    for column in columns[4:7]:
        totals[column] = overall[column]
    return Report("agents", q.params, columns, rows, totals)


def prepaid(q: _Query) -> Report:
    card_filter = "AND pc.customer_id = :customer_id" if q.params.customer_id is not None else ""
    # A team: the period's use counts the team's tickets only (cards belong to customers).
    team_join = (
        "JOIN tticket_tickets t ON t.id = w.ticket_id AND t.team_id = :team_id "
        if q.params.team_id is not None
        else ""
    )
    cards = q.run(
        f"SELECT pc.customer_id AS k, COUNT(*) AS cards, "
        f"SUM(CASE WHEN pc.status = 'active' THEN 1 ELSE 0 END) AS active, "
        f"SUM(pc.hours_bought) AS bought, SUM(pc.minutes_used) AS used, "
        f"SUM(CASE WHEN pc.status = 'active' "
        f"THEN ROUND(pc.hours_bought * 60) - pc.minutes_used ELSE 0 END) AS remaining "
        f"FROM tticket_prepaid_cards pc WHERE pc.status <> 'cancelled' {card_filter} "
        f"GROUP BY pc.customer_id"
    )
    period = {
        row.k: int(row.minutes)
        for row in q.run(
            "SELECT pc.customer_id AS k, SUM(dd.minutes) AS minutes "
            "FROM tticket_prepaid_drawdowns dd "
            "JOIN tticket_prepaid_cards pc ON pc.id = dd.card_id "
            "JOIN tticket_worklogs w ON w.id = dd.worklog_id "
            f"{team_join}"
            f"WHERE w.work_date >= :start_day AND w.work_date <= :end_day {card_filter} "
            "GROUP BY pc.customer_id"
        )
    }
    by_customer = {row.k: row for row in cards}
    keys = set(by_customer) | set(period)
    names = _names(q, "customers", "name", keys)
    rows: list[Row] = []
    for key in keys:
        c = by_customer.get(key)
        rows.append(
            {
                "customer_id": key,
                "customer": names.get(key),
                "cards": int(c.cards) if c else 0,
                "active_cards": int(c.active or 0) if c else 0,
                "hours_bought": round(float(c.bought), 2) if c else 0.0,
                "used_in_period_hours": _hours(period.get(key, 0)),
                "used_total_hours": _hours(c.used if c else 0),
                "remaining_hours": _hours(c.remaining if c else 0),
            }
        )
    rows.sort(key=lambda r: (str(r["customer"] or "~"), r["customer_id"] or 0))
    columns = [
        "customer_id",
        "customer",
        "cards",
        "active_cards",
        "hours_bought",
        "used_in_period_hours",
        "used_total_hours",
        "remaining_hours",
    ]
    return Report("prepaid", q.params, columns, rows, _sum_totals(rows, columns, "customer_id"))


REPORTS: Final[dict[str, Callable[[_Query], Report]]] = {
    "volume": volume,
    "response-times": response_times,
    "sla": sla,
    "customers": customers,
    "agents": agents,
    "prepaid": prepaid,
}


def check_name(name: str) -> str:
    if name not in REPORTS:
        raise NotFound(f"report {name!r} does not exist; reports: {', '.join(REPORTS)}")
    return name


def run(
    session: Session,
    principal: Principal,
    name: str,
    params: ReportParams,
    now: datetime,
    *,
    use_facts: bool = True,
) -> Report:
    """The report `name`. `use_facts=False` computes every business time at request time
    instead of taking the stored per-ticket facts (the same numbers, slower: for tests)."""
    principal.require(REPORTS_VIEW)
    report = REPORTS[check_name(name)]
    return report(_Query(session, params, now, use_facts=use_facts))


def period_label(start: date, end: date) -> str:
    return f"{start.isoformat()}..{end.isoformat()}"
