"""Reports at scale: 200,000 tickets and 1,000,000 emails, each report timed (p95 of N runs)
on SQLite and PostgreSQL.

The data is generated **directly with set-based SQL** (one `INSERT ... SELECT` over a
number series per table: a recursive CTE on SQLite, `generate_series` on PostgreSQL), not
through the services: 200,000 tickets one by one would take hours. The shapes match what
the services write (clocks with policies, missed targets, worklogs, prepaid draw-downs
through the real triggers). Each report is then run through `hubdesk.reports.service.run`
in a read transaction, as the API route does, over the whole year holding every ticket
(the worst case: a report covers at most 366 days).

    .venv/bin/python -m bench.reports [--tickets 200000] [--emails-per-ticket 5] [--runs 20]
        [--skip-postgres] [--skip-sqlite] [--keep DIR]

`--keep DIR` keeps the populated databases (DIR/reports.sqlite and the PostgreSQL database
`hubdesk_bench_reports_keep`) and reuses them on the next run with the same ticket count,
so repeated timings skip the populating.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url

from bench.ingest import PG_ADMIN, drop_postgres, fresh_postgres, runtime_for
from hubdesk.db.engine import create_db_engine
from hubdesk.db.types import UTCDateTime, utcnow
from hubdesk.reports import params, service
from hubdesk.runtime import Runtime
from hubdesk.sla import report_facts
from hubdesk.sla import service as sla
from hubdesk.users.permissions import SYSTEM

BASE = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
YEAR = 365 * 86400
CUSTOMERS = 1000
AGENTS = 50
OFFICE = {d: [["08:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _series(pg: bool, n: int) -> tuple[str, str]:
    """(WITH prefix, FROM clause) giving a column i = 1..n."""
    if pg:
        return "", f"generate_series(1, {n}) AS s(i)"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ", "s"


def _ts(pg: bool, seconds: str) -> str:
    """A stored UTC time `seconds` after 2025-01-01 (SQLAlchemy's SQLite text format)."""
    if pg:
        return f"to_timestamp({BASE} + ({seconds}))"
    return f"strftime('%Y-%m-%d %H:%M:%S.000000', {BASE} + ({seconds}), 'unixepoch')"


def _day(pg: bool, seconds: str) -> str:
    if pg:
        return f"(to_timestamp({BASE} + ({seconds})) AT TIME ZONE 'UTC')::date"
    return f"date({BASE} + ({seconds}), 'unixepoch')"


def populate(runtime: Runtime, tickets: int, emails_per_ticket: int) -> dict[str, float]:
    pg = runtime.db.engine.dialect.name == "postgresql"
    took: dict[str, float] = {}
    created = f"((i * 7919) % {YEAR})"  # spread over the year
    statements = {
        "customers": (
            CUSTOMERS,
            "INSERT INTO customers (name, notes, active, created_at, updated_at) "
            "SELECT 'Customer ' || i, '', {true}, {now}, {now} FROM {src}",
        ),
        "users": (
            AGENTS,
            "INSERT INTO users (email, name, active, language, notify_by_email, created_at) "
            "SELECT 'agent' || i || '@bench.example.com', 'Agent ' || i, {true}, 'en', {true}, "
            "{now} FROM {src}",
        ),
        "tickets": (
            tickets,
            "INSERT INTO tticket_tickets (id, ticket_number, subject, description, status, "
            "priority, customer_id, assigned_to_user_id, custom_fields, source, created_at, "
            "updated_at, first_response_at, resolved_at, version) "
            "SELECT i, 'B-' || i, 'Bench ticket ' || i, '', "
            "CASE WHEN i % 5 = 0 THEN 'open' ELSE 'resolved' END, "
            "CASE i % 4 WHEN 0 THEN 'low' WHEN 1 THEN 'normal' WHEN 2 THEN 'high' "
            "ELSE 'critical' END, 1 + i % {customers}, "
            "CASE WHEN i % 10 = 0 THEN NULL ELSE 1 + i % {agents} END, '{{}}', 'email', "
            "{created}, {created}, "
            "CASE WHEN i % 7 = 0 THEN NULL ELSE {first} END, "
            "CASE WHEN i % 5 = 0 THEN NULL ELSE {resolved} END, 1 FROM {src}",
        ),
        "clocks": (
            tickets,
            "INSERT INTO sla_ticket_clocks (ticket_id, policy_id, started_at, "
            "resolution_started_at, pauses, missed, last_status, last_priority, paused, "
            "updated_at, next_due_at, first_response_met_at) "
            "SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + i % 2 END, {created}, {created}, "
            "'[]', (CASE WHEN i % 6 = 1 THEN '[\"first_response\"]' ELSE '[]' END){js}, "
            "'open', 'normal', {false}, {created}, "
            "CASE WHEN i % 5 = 0 THEN {due} ELSE NULL END, "
            "CASE WHEN i % 7 = 0 THEN NULL ELSE {first} END FROM {src}",
        ),
        "emails": (
            tickets * emails_per_ticket,
            "INSERT INTO tticket_email_log (ticket_id, email_message_id, email_subject, "
            "email_from, email_received_at, is_reply, created_at, direction, decision, reason, "
            "email_to, email_cc, body_text, body_visible, flags) "
            "SELECT 1 + (i - 1) / {per}, '<m' || i || '@bench.example.com>', 'Mail ' || i, "
            "'c' || (i % 5000) || '@customer.example.com', {mail}, (i - 1) % {per} > 0, "
            "{mail}, CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'created', '', "
            "'[]', '[]', 'Hello, this is mail ' || i, 'Hello', '{{}}' FROM {src}",
        ),
        "worklogs": (
            tickets // 2,
            "INSERT INTO tticket_worklogs (ticket_id, user_id, work_date, minutes, "
            "description, billable, billing, created_at) "
            "SELECT i * 2, 1 + i % {agents}, {workday}, 15 + i % 90, '', i % 3 > 0, 'none', "
            "{now} FROM {src}",
        ),
        "cards": (
            CUSTOMERS,
            "INSERT INTO tticket_prepaid_cards (id, customer_id, hours_bought, price, currency, "
            "bought_on, status, minutes_used, notes, created_at) "
            "SELECT i, i, 100, 0, 'DKK', '2025-01-01', 'active', 0, '', {now} FROM {src}",
        ),
        "prepaid worklogs": (
            tickets // 20,
            "INSERT INTO tticket_worklogs (ticket_id, user_id, work_date, minutes, "
            "description, billable, billing, prepaid_card_id, created_at) "
            "SELECT i * 20 - 19, 1, {workday20}, 30, '', {true}, 'prepaid', "
            "1 + (i * 20 - 19) % {customers}, {now} FROM {src}",
        ),
        # One draw-down per card per statement: the card triggers check minutes_used
        # against the sum of the card's draw-downs row by row, and PostgreSQL runs AFTER
        # row triggers at the end of the statement, when all its rows are visible.
        **{
            f"drawdowns {k}": (
                0,
                "INSERT INTO tticket_prepaid_drawdowns (card_id, worklog_id, minutes, "
                "created_at) SELECT card, id, minutes, created_at FROM (SELECT "
                "prepaid_card_id AS card, id, minutes, created_at, ROW_NUMBER() OVER "
                "(PARTITION BY prepaid_card_id ORDER BY id) AS k FROM tticket_worklogs "
                f"WHERE billing = 'prepaid') w WHERE k = {k}",
            )
            for k in range(1, max(tickets // 20 // CUSTOMERS, 1) + 1)
        },
    }
    fields = {
        "now": _ts(pg, str(YEAR)),
        "true": "TRUE" if pg else "1",
        "js": "::jsonb" if pg else "",
        "false": "FALSE" if pg else "0",
        "customers": CUSTOMERS,
        "agents": AGENTS,
        "per": emails_per_ticket,
        "created": _ts(pg, created),
        "first": _ts(pg, f"{created} + 600 + (i % 97) * 337"),
        "resolved": _ts(pg, f"{created} + 3600 + (i % 113) * 2711"),
        "due": _ts(pg, f"{created} + 28800"),
        "mail": _ts(pg, f"((((i - 1) / {emails_per_ticket} + 1) * 7919) % {YEAR}) + i % 7 * 600"),
        "workday": _day(pg, "((i * 2 * 7919) % " + str(YEAR) + ") + 86400"),
        "workday20": _day(pg, "(((i * 20 - 19) * 7919) % " + str(YEAR) + ")"),
    }
    with runtime.db.transaction() as session:
        for name, hours in (("Office", OFFICE), ("Always", ALWAYS)):
            sla.create_policy(
                session,
                SYSTEM,
                {
                    "name": name,
                    "default": False,
                    "customer_ids": [],
                    "calendar": {
                        "timezone": "Europe/Copenhagen",
                        "hours": hours,
                        "holidays": [],
                        "country_holidays": "DK",
                    },
                    "targets": {
                        "normal": {
                            "first_response_minutes": 60,
                            "next_response_minutes": 120,
                            "resolution_minutes": 480,
                        }
                    },
                },
            )
    for name, (count, template) in statements.items():
        prefix, src = _series(pg, max(count, 1))
        sql = prefix + template.format(src=src, **fields)
        start = time.perf_counter()
        with runtime.db.engine.begin() as connection:
            # psycopg reads % as a placeholder marker even without parameters.
            connection.exec_driver_sql(sql.replace("%", "%%") if pg else sql)
        took[name] = round(time.perf_counter() - start, 2)
        print(f"  {name}: {count or 'all'} rows in {took[name]} s", flush=True)
    # The reports' per-ticket facts, as migration 0016_report_rollups computes them for existing
    # tickets (the services keep them on every write; rows written directly need this).
    start = time.perf_counter()
    with runtime.db.engine.begin() as connection:
        written = report_facts.backfill(connection)
    took["report facts"] = round(time.perf_counter() - start, 2)
    print(f"  report facts: {written} tickets in {took['report facts']} s", flush=True)
    with runtime.db.engine.begin() as connection:
        if pg:
            connection.exec_driver_sql(
                "SELECT setval('tticket_tickets_id_seq', (SELECT MAX(id) FROM tticket_tickets))"
            )
        else:
            connection.exec_driver_sql("ANALYZE")
    if pg:  # VACUUM sets the visibility map that index-only scans need; not in a transaction
        with runtime.db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return took


def time_reports(runtime: Runtime, runs: int, names: list[str] | None = None) -> dict[str, Any]:
    checked = params.check(
        from_="2025-01-01", to="2025-12-31", interval=None, today=date(2026, 1, 1)
    )
    out: dict[str, Any] = {}
    # The floor on this machine at this moment: one scan of the year's tickets through the
    # covering index, counting them (compare each report with it: the machine is shared).
    floor = []
    for _ in range(runs):
        start = time.perf_counter()
        with runtime.db.transaction(write=False) as session:
            session.execute(
                text(
                    "SELECT COUNT(*), MAX(customer_id) FROM tticket_tickets "
                    "WHERE created_at >= :start AND created_at < :end"
                ).bindparams(
                    bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
                ),
                {"start": checked.start, "end": checked.end},
            ).all()
        floor.append(time.perf_counter() - start)
    out["scan floor"] = {"runs": runs, "median_ms": round(statistics.median(floor) * 1000, 1)}
    print(f"  scan floor: {out['scan floor']}", flush=True)
    for name in names or list(service.REPORTS):
        seconds = []
        rows = 0
        for _ in range(runs):
            start = time.perf_counter()
            with runtime.db.transaction(write=False) as session:
                report = service.run(session, SYSTEM, name, checked, utcnow())
            seconds.append(time.perf_counter() - start)
            rows = len(report.rows)
        ordered = sorted(seconds)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
        out[name] = {
            "runs": runs,
            "rows": rows,
            "median_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(p95 * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1),
        }
        print(f"  {name}: {out[name]}", flush=True)
    return out


BENCH_PG = "hubdesk_bench_reports"
KEPT_PG = "hubdesk_bench_reports_keep"


def _postgres(name: str, keep: Path | None) -> str | None:
    """A fresh database, or with --keep the kept one (created when missing)."""
    if keep is None:
        return fresh_postgres(name)
    engine = create_db_engine(PG_ADMIN)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            found = connection.exec_driver_sql(
                "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}
            ).first()
            if found is None:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def _populated(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return int(session.execute(text("SELECT COUNT(*) FROM tticket_tickets")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--emails-per-ticket", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--reports", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--pg-database", default=KEPT_PG, help="the kept PostgreSQL database's name (--keep)"
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "tickets": args.tickets,
        "emails": args.tickets * args.emails_per_ticket,
    }
    with tempfile.TemporaryDirectory(prefix="hubdesk-bench-reports-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        targets: list[tuple[str, str | None]] = []
        if not args.skip_sqlite:
            targets.append(("sqlite", f"sqlite:///{work / 'reports.sqlite'}"))
        if not args.skip_postgres:
            targets.append(
                ("postgresql", _postgres(args.pg_database if args.keep else BENCH_PG, args.keep))
            )
        for kind, url in targets:
            if url is None:
                continue
            runtime = runtime_for(url, work / kind)
            try:
                if _populated(runtime) == args.tickets:
                    print(f"{kind}: reusing {args.tickets} tickets", flush=True)
                else:
                    print(f"{kind}: populating", flush=True)
                    if _populated(runtime):
                        raise SystemExit(f"{url} holds other data: remove it first")
                    results[f"{kind}_populate_s"] = populate(
                        runtime, args.tickets, args.emails_per_ticket
                    )
                print(f"{kind}: timing", flush=True)
                results[kind] = time_reports(
                    runtime, args.runs, [n for n in args.reports.split(",") if n] or None
                )
            finally:
                runtime.close()
                if kind == "postgresql" and not args.keep:
                    drop_postgres(BENCH_PG)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "reports.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
