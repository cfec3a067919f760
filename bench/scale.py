"""At scale (issue 9): ingest rate and page times with 1,000,000 stored emails, on SQLite
and PostgreSQL.

How the data is made, per database (a fresh one):

1. **seed**: `--seed-emails` generated mails (bench/mailgen.py, seed 1) through the bulk
   path, `hubdesk ingest FOLDER` (the CLI, a child process): every table gets rows in the
   exact shapes the pipeline writes (ledger, dedupe keys, tickets, email log, contacts,
   participants, attachments, audit, SLA clocks, search documents). Every `hubdesk ingest`
   run has the per-sender new-ticket limit (TICKET_NEW_PER_SENDER_PER_HOUR) raised out of
   reach, so that the runs compared do the same work (see `cli_ingest`).
2. **rate at 10,000**: `--batch` more generated mails (another seed) through the same CLI,
   timed (wall clock of the child process) while the database holds the seed.
3. **clones**: every row of every table that hangs off tickets or the ledger (found through
   the foreign keys of the models) is copied K times with `INSERT ... SELECT`, ids shifted
   by K times the table's largest id, foreign keys shifted alike, unique text columns
   (message ids, ticket numbers, dedupe keys) suffixed: the same shapes, K times, until the
   database holds `--emails` minus `--tail` emails. The search documents are copied too.
4. **tail**: `--tail` generated mails (fresh seeds, `--batch` a run) through the CLI; the last
   run is timed: the rate at `--emails` stored, to compare with step 2 (same batch size,
   same generator, same run of this script).
5. `ANALYZE` (PostgreSQL: `VACUUM ANALYZE`), then each request is timed `--runs` times
   in-process through the ASGI app (FastAPI's TestClient: no network, the whole request
   path including the session cookie or token check, the queries and the template):
   the ticket list (page `/tickets` and `GET /api/v1/tickets`), a ticket page (a different
   random ticket each run, page and API), the text search (a common and a rare word, page
   and API) and the dashboard (`/`). Medians and p95 over the runs, after 3 warm-up runs.

    .venv/bin/python -m bench.scale [--emails 1000000] [--tail 100000] [--seed-emails 10000]
        [--batch 10000] [--runs 30] [--skip-postgres] [--skip-sqlite] [--keep] [--pg-name NAME]
    .venv/bin/python -m bench.scale --time-only URL [--runs 30]   (re-time a kept database)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import hubdesk.models  # noqa: F401 (every table in Base.metadata)
from bench import mailgen
from bench.ingest import drop_postgres, fresh_postgres, runtime_for
from hubdesk.db.base import Base
from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.users.permissions import SYSTEM

HUBDESK = Path(sys.executable).with_name("hubdesk")
PASSWORD = "bench-password-" + "x" * 12
ROOTS = ("tticket_tickets", "inbound_messages")


def cli_ingest(url: str, data_dir: Path, mails: list[bytes], work: Path) -> dict[str, Any]:
    """Write `mails` as .eml files and ingest them with `hubdesk ingest FOLDER`; returns the
    count, the seconds (wall clock of the child process) and the rate."""
    folder = work / "batch"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for index, raw in enumerate(mails):
        (folder / f"{index:07d}.eml").write_bytes(raw)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HUBDESK_DATA_DIR": str(data_dir),
        "HUBDESK_SECRET_KEY": "bench-" + "k" * 40,
        "MAIL_DOMAIN": "support.example.com",
        # Every run does the same work: the generator's few hundred senders would pass the
        # per-sender new-ticket limit against the clones' rows (all made within the hour),
        # and a throttled mail is a cheaper `ignored` (the tail of 2026-12-04: 9,998 ignored).
        "TICKET_NEW_PER_SENDER_PER_HOUR": str(10**9),
    }
    start = time.perf_counter()
    done = subprocess.run(
        [str(HUBDESK), "ingest", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"hubdesk ingest exited {done.returncode}: {done.stderr[-2000:]}")
    shutil.rmtree(folder, ignore_errors=True)
    summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    return {
        "messages": len(mails),
        "seconds": round(seconds, 2),
        "per_second": round(len(mails) / seconds, 1),
        "summary": summary,
    }


def count(runtime: Runtime, table: str) -> int:
    with runtime.db.engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())  # noqa: S608


def _cloned_tables() -> list[sa.Table]:
    """The tables whose rows hang off a ticket or a ledger row (through foreign keys), in
    dependency order."""
    chosen: set[str] = set(ROOTS)
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.sorted_tables:
            if table.name in chosen:
                continue
            if any(fk.column.table.name in chosen for fk in table.foreign_keys):
                chosen.add(table.name)
                changed = True
    return [t for t in Base.metadata.sorted_tables if t.name in chosen]


def _unique_text_columns(table: sa.Table) -> set[str]:
    names: set[str] = set()
    groups: list[list[sa.Column[Any]]] = [[c] for c in table.columns if c.unique]
    groups += [list(i.columns) for i in table.indexes if i.unique]
    groups += [list(c.columns) for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    if not any(isinstance(c.type, sa.Integer) for c in table.primary_key.columns):
        groups.append(list(table.primary_key.columns))
    for group in groups:
        for column in group:
            if isinstance(column.type, sa.String | sa.Text):
                names.add(column.name)
    return names


def clone(runtime: Runtime, copies: int, tag: str) -> dict[str, Any]:
    """Copy every ticket- and ledger-owned row `copies` times (see the module's step 3)."""
    pg = runtime.db.dialect == "postgresql"
    tables = _cloned_tables()
    took: dict[str, Any] = {}
    with runtime.db.engine.begin() as connection:
        largest: dict[str, int] = {}
        for table in tables:
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and isinstance(pk[0].type, sa.Integer):
                found = connection.execute(sa.select(sa.func.max(pk[0]))).scalar()
                largest[table.name] = int(found or 0)
        series = (
            f"generate_series(1, {copies}) AS k(k)"
            if pg
            else f"(WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s "  # noqa: S608
            f"WHERE k < {copies}) SELECT k FROM s) AS k"
        )
        for table in tables:
            start = time.perf_counter()
            unique_text = _unique_text_columns(table)
            names, values = [], []
            for column in table.columns:
                if column.computed is not None:  # the database computes it (priority_rank)
                    continue
                expr = f"src.{column.name}"
                if column.primary_key and table.name in largest:
                    expr = f"src.{column.name} + k.k * {largest[table.name]}"
                else:
                    for fk in column.foreign_keys:
                        target = fk.column.table.name
                        if target in largest:
                            expr = f"src.{column.name} + k.k * {largest[target]}"
                if column.name in unique_text:
                    expr = f"src.{column.name} || '~{tag}' || CAST(k.k AS TEXT)"
                names.append(column.name)
                values.append(expr)
            where = ""
            if table.name in largest:
                pk_name = next(iter(table.primary_key.columns)).name
                where = f"WHERE src.{pk_name} <= {largest[table.name]}"
            sql = (
                f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(values)} "  # noqa: S608
                f"FROM {table.name} src CROSS JOIN {series} {where}"
            )
            result = connection.exec_driver_sql(sql.replace("%", "%%") if pg else sql)
            took[table.name] = {
                "rows": result.rowcount,
                "seconds": round(time.perf_counter() - start, 2),
            }
            print(f"    {table.name}: {took[table.name]}", flush=True)
        tickets = largest["tticket_tickets"]
        start = time.perf_counter()
        if pg:
            connection.exec_driver_sql(
                "INSERT INTO tticket_search (ticket_id, document) SELECT "  # noqa: S608
                f"src.ticket_id + k.k * {tickets}, src.document FROM tticket_search src "
                f"CROSS JOIN {series} WHERE src.ticket_id <= {tickets}"
            )
            for table in tables:
                if table.name in largest:
                    pk_name = next(iter(table.primary_key.columns)).name
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk_name}'), "  # noqa: S608
                        f"(SELECT MAX({pk_name}) FROM {table.name}))"
                    )
        else:
            connection.exec_driver_sql(
                "INSERT INTO tticket_search (rowid, document) SELECT "  # noqa: S608
                f"src.rowid + k.k * {tickets}, src.document FROM tticket_search src "
                f"CROSS JOIN {series} WHERE src.rowid <= {tickets}"
            )
        took["tticket_search"] = {"seconds": round(time.perf_counter() - start, 2)}
    return took


def analyze(runtime: Runtime) -> None:
    if runtime.db.dialect == "postgresql":
        with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    else:
        with runtime.db.engine.begin() as c:
            c.exec_driver_sql("ANALYZE")


def _stats(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def time_requests(runtime: Runtime, runs: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from hubdesk.web.app import create_app

    email = f"bench-{os.getpid()}@hubdesk.example.com"
    with runtime.db.transaction() as session:
        user = users.create_user(
            session, SYSTEM, email=email, name="Bench", password=PASSWORD, groups=["admins"]
        )
        _token, secret = users.create_token(session, SYSTEM, user, name="bench")
    with runtime.db.engine.connect() as connection:
        top = int(connection.exec_driver_sql("SELECT MAX(id) FROM tticket_tickets").scalar_one())
        number = connection.execute(
            sa.text("SELECT ticket_number FROM tticket_tickets WHERE id = :i"), {"i": top // 2}
        ).scalar_one()
    rng = random.Random(5)
    api = {"Authorization": f"Bearer {secret}"}
    out: dict[str, Any] = {}
    with TestClient(create_app(runtime.settings, runtime=runtime)) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text[:500]
        requests: dict[str, Callable[[], Any]] = {
            "dashboard page /": lambda: client.get("/"),
            "ticket list page /tickets": lambda: client.get("/tickets"),
            "ticket list API": lambda: client.get("/api/v1/tickets?limit=50", headers=api),
            "list page, unassigned by priority": lambda: client.get(
                "/tickets?status=active&assignee=none&sort=-priority%2Ccreated_at"
            ),
            "ticket page /tickets/{id}": lambda: client.get(
                f"/tickets/{rng.randint(1, top)}", follow_redirects=True
            ),
            "ticket API /api/v1/tickets/{id}": lambda: client.get(
                f"/api/v1/tickets/{rng.randint(1, top)}", headers=api
            ),
            "search page, common word (printer)": lambda: client.get("/tickets?q=printer"),
            "search API, common word (printer)": lambda: client.get(
                "/api/v1/tickets?q=printer&limit=50", headers=api
            ),
            f"search API, rare word ({number})": lambda: client.get(
                f"/api/v1/tickets?q={number}&limit=50", headers=api
            ),
        }
        for name, call in requests.items():
            seconds = []
            status = None
            for run in range(runs + 3):
                start = time.perf_counter()
                response = call()
                took = time.perf_counter() - start
                status = response.status_code
                if status not in (200, 404):
                    raise RuntimeError(f"{name}: {status} {response.text[:300]}")
                if run >= 3:
                    seconds.append(took)
            out[name] = {"runs": runs, "status": status, **_stats(seconds)}
            print(f"    {name}: {out[name]}", flush=True)
    return out


def one_database(kind: str, url: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    runtime = runtime_for(url, work / "data")
    data_dir = work / "data" / "data"
    result: dict[str, Any] = {}
    try:
        print(f"{kind}: seed, {args.seed_emails} mails through hubdesk ingest", flush=True)
        result["seed"] = cli_ingest(
            url, data_dir, list(mailgen.generate(args.seed_emails, seed=1)), work
        )
        print(f"  {result['seed']}", flush=True)
        stored = count(runtime, "tticket_email_log")
        if stored < args.small:
            copies = max(1, round(args.small / stored) - 1)
            print(f"{kind}: {copies} clones of {stored} emails (to {args.small})", flush=True)
            result["clone_small"] = clone(runtime, copies, "a")
            analyze(runtime)
            stored = count(runtime, "tticket_email_log")
        print(f"{kind}: rate with {stored} stored", flush=True)
        result["rate_small"] = {
            "stored_before": stored,
            **cli_ingest(url, data_dir, list(mailgen.generate(args.batch, seed=2)), work),
        }
        print(f"  {result['rate_small']}", flush=True)
        stored = count(runtime, "tticket_email_log")
        copies = max(0, (args.emails - args.tail - stored) // stored)
        print(f"{kind}: {copies} clones of {stored} emails", flush=True)
        start = time.perf_counter()
        result["clone"] = clone(runtime, copies, "b") if copies else {}
        result["clone_seconds"] = round(time.perf_counter() - start, 1)
        analyze(runtime)
        seed = 3
        runs: list[dict[str, Any]] = []
        left = args.tail
        while left > 0:
            size = min(args.batch, left)
            stored = count(runtime, "tticket_email_log")
            print(f"{kind}: tail batch of {size} with {stored} stored", flush=True)
            done = cli_ingest(url, data_dir, list(mailgen.generate(size, seed=seed)), work)
            runs.append({"stored_before": stored, **done})
            print(f"  {done}", flush=True)
            left -= size
            seed += 1
        result["tail"] = runs
        if runs:
            result["rate_large"] = runs[-1]
            result["rate_ratio"] = round(
                runs[-1]["per_second"] / result["rate_small"]["per_second"], 3
            )
        analyze(runtime)
        result["stored"] = {
            "emails": count(runtime, "tticket_email_log"),
            "ledger": count(runtime, "inbound_messages"),
            "tickets": count(runtime, "tticket_tickets"),
        }
        print(f"{kind}: {result['stored']}; timing requests", flush=True)
        result["requests"] = time_requests(runtime, args.runs)
    finally:
        runtime.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=1_000_000)
    parser.add_argument("--tail", type=int, default=100_000)
    parser.add_argument("--seed-emails", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument(
        "--small", type=int, default=10_000, help="emails stored for the first rate (clones)"
    )
    parser.add_argument("--time-only", metavar="URL", help="only time the requests on URL")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the databases (a folder)")
    parser.add_argument(
        "--pg-name", default="hubdesk_bench_scale", help="the PostgreSQL database to (re)create"
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "scale.json"))
    args = parser.parse_args()
    results: dict[str, Any] = {"args": vars(args), "load_before": os.getloadavg()}
    if args.time_only:
        runtime = runtime_for(args.time_only, Path(tempfile.mkdtemp(prefix="hubdesk-scale-")))
        try:
            results["requests"] = time_requests(runtime, args.runs)
        finally:
            runtime.close()
        results["load_after"] = os.getloadavg()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2))
        return
    work = Path(tempfile.mkdtemp(prefix="hubdesk-bench-scale-"))
    try:
        if not args.skip_sqlite:
            url = f"sqlite:///{work / 'scale.sqlite'}"
            results["sqlite"] = one_database("sqlite", url, work / "sqlite", args)
            results["load_after_sqlite"] = os.getloadavg()
        if not args.skip_postgres:
            pg_url = fresh_postgres(args.pg_name)
            if pg_url is not None:
                try:
                    results["postgresql"] = one_database("postgresql", pg_url, work / "pg", args)
                finally:
                    if not args.keep:
                        drop_postgres(args.pg_name)
            results["load_after_postgresql"] = os.getloadavg()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: {work}")
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
