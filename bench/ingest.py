"""Ingest benchmark: hubdesk's whole pipeline against the bare stdlib parse, in one run.

On one seeded corpus of realistic support mail (bench/mailgen.py) it measures, in the same
process and run:

- `email.message_from_bytes(raw, policy=policy.default)` and `policy=policy.compat32`;
- hubdesk's parser alone (`hubdesk.mail.parse.parse_email`);
- the whole pipeline (`hubdesk.intake.pipeline.ingest`: raw bytes kept and fsynced, parsed,
  deduplicated, threaded, classified, ticket or comment written, email log, audit, search
  index) on SQLite and on PostgreSQL;
- the bulk path (`hubdesk ingest` of a folder: `pipeline.ingest_bulk`, batches with group
  commit) on SQLite and on PostgreSQL, as a rate over the whole corpus;
- django-helpdesk 2.6.1 (`get_email` from a local folder, bench/django_helpdesk.py: its own
  throw-away virtualenv) on the same corpus, on SQLite and on PostgreSQL (`--django-helpdesk`);
- the threading lookup with 10,000 and with 1,000,000 emails stored (`--lookup`).

`--runs N` repeats the rate comparison (parse, bulk ingest, django-helpdesk) N times on fresh
databases and reports the median of each rate and of each run's ratios.

Figures are medians (and p99) per email and emails per second, with ratios computed from the
same run; the machine is shared and noisy, so compare ratios, not absolute numbers.

    .venv/bin/python -m bench.ingest --count 2000
    .venv/bin/python -m bench.ingest --count 2000 --lookup
    .venv/bin/python -m bench.ingest --count 2000 --runs 3 --django-helpdesk --rates-only
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import django_helpdesk
from bench.mailgen import generate
from hubdesk import models
from hubdesk.config import Settings
from hubdesk.db.engine import create_db_engine
from hubdesk.db.migrate import upgrade
from hubdesk.intake import pipeline

try:
    from hubdesk.intake import bulk
except ImportError:  # measuring the pipeline from before the bulk path
    bulk = None  # type: ignore[assignment]
from hubdesk.intake.signals import thread_signals
from hubdesk.intake.sources import Source
from hubdesk.intake.threading import resolve
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from hubdesk.runtime import Runtime

PG_ADMIN = os.environ.get(
    "HUBDESK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def summarise(name: str, seconds: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "name": name,
        "messages": len(seconds),
        "median_ms": round(statistics.median(seconds) * 1000, 4),
        "p99_ms": round(p99 * 1000, 4),
        "per_second": round(len(seconds) / sum(seconds), 1),
    }


def timed(function: Callable[[bytes], Any], raws: Sequence[bytes]) -> list[float]:
    seconds = []
    for raw in raws:
        start = time.perf_counter()
        function(raw)
        seconds.append(time.perf_counter() - start)
    return seconds


def runtime_for(url: str, workdir: Path) -> Runtime:
    settings = Settings(
        database_url=url,
        data_dir=workdir / "data",
        secret_key="bench-" + "k" * 40,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )
    # The mappers are configured before the clock starts, as `django.setup()` readies
    # Django's models before django-helpdesk's clock starts.
    models.configure()
    built = Runtime.build(settings)
    upgrade(built.db.engine)
    return built


def fresh_postgres(name: str) -> str | None:
    try:
        engine = create_db_engine(PG_ADMIN)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
    except Exception as exc:  # the benchmark reports and skips an unreachable server
        print(f"PostgreSQL unavailable, skipped: {exc}")
        return None
    return sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def pipeline_run(name: str, url: str, raws: Sequence[bytes], workdir: Path) -> dict[str, Any]:
    runtime = runtime_for(url, workdir)
    statuses: dict[str, int] = {}

    def one(raw: bytes) -> None:
        outcome = pipeline.ingest(runtime, raw, source="bench")
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1

    result = summarise(name, timed(one, raws))
    result["statuses"] = statuses
    runtime.close()
    return result


def bulk_run(url: str, raws: Sequence[bytes], workdir: Path) -> float:
    """Emails per second of the bulk path over the whole corpus (fresh database)."""
    runtime = runtime_for(url, workdir)
    sources = [Source(f"bench#{i}", (lambda raw=raw: raw)) for i, raw in enumerate(raws)]
    start = time.perf_counter()
    if bulk is not None:
        for _source, _outcome in bulk.ingest_bulk(runtime, sources):
            pass
    else:  # the pipeline before the bulk path: one message, one transaction
        for raw in raws:
            pipeline.ingest(runtime, raw, source="bench")
    seconds = time.perf_counter() - start
    runtime.close()
    return len(raws) / seconds


def parse_rate(raws: Sequence[bytes]) -> float:
    """Emails per second of `policy.default` + the body, what a bare stdlib reader does."""
    start = time.perf_counter()
    for raw in raws:
        bare_parse(raw)
    return len(raws) / (time.perf_counter() - start)


def bare_parse(raw: bytes) -> None:
    """What a bare stdlib reader does with a mail: `policy.default` and the body's text."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(("plain", "html"))  # type: ignore[attr-defined]
    if body is not None:
        body.get_content()


def drop_postgres(name: str) -> None:
    engine = create_db_engine(PG_ADMIN)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def rates(raws: Sequence[bytes], work: Path, *, postgres: bool, dh: bool) -> dict[str, float]:
    """One run of the rate comparison, every figure from this run."""
    found = {"stdlib policy.default + body": parse_rate(raws)}
    found["hubdesk bulk ingest, SQLite"] = bulk_run(
        f"sqlite:///{work}/bulk.db", raws, work / "bulk-sqlite"
    )
    if dh:
        done = django_helpdesk.run(raws, work / "dh-sqlite", str(work / "dh.db"))
        found["django-helpdesk get_email, SQLite"] = done["messages"] / done["seconds"]
    pg = fresh_postgres(f"hubdesk_bench_bulk_{os.getpid()}") if postgres else None
    if pg is not None:
        found["hubdesk bulk ingest, PostgreSQL"] = bulk_run(pg, raws, work / "bulk-pg")
        if dh:
            dh_url = fresh_postgres(f"dh_bench_{os.getpid()}")
            if dh_url is not None:
                plain = dh_url.replace("postgresql+psycopg://", "postgresql://")
                done = django_helpdesk.run(raws, work / "dh-pg", plain)
                found["django-helpdesk get_email, PostgreSQL"] = done["messages"] / done["seconds"]
                drop_postgres(f"dh_bench_{os.getpid()}")
        drop_postgres(f"hubdesk_bench_bulk_{os.getpid()}")
    return found


def rate_runs(raws: Sequence[bytes], runs: int, *, postgres: bool, dh: bool) -> dict[str, Any]:
    """Medians over `runs` runs of each rate and of each run's ratios."""
    per_run: list[dict[str, float]] = []
    for number in range(runs):
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
            found = rates(raws, Path(scratch), postgres=postgres, dh=dh)
        parse = found["stdlib policy.default + body"]
        for db in ("SQLite", "PostgreSQL"):
            ours = found.get(f"hubdesk bulk ingest, {db}")
            theirs = found.get(f"django-helpdesk get_email, {db}")
            if ours is not None:
                found[f"ratio bulk/parse, {db}"] = ours / parse
            if ours is not None and theirs is not None:
                found[f"ratio bulk/django-helpdesk, {db}"] = ours / theirs
        print(f"run {number + 1}: " + ", ".join(f"{k}: {v:.2f}" for k, v in found.items()))
        per_run.append(found)
    keys = [k for k in per_run[0] if all(k in run for run in per_run)]
    return {
        "runs": per_run,
        "median": {k: round(statistics.median(run[k] for run in per_run), 3) for k in keys},
    }


def lookup_run(url: str, workdir: Path, stored: int, probes: int = 2000) -> dict[str, Any]:
    """Median time of the threading decision with `stored` emails in the email log."""
    runtime = runtime_for(url, workdir)
    with runtime.db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO tticket_tickets (ticket_number, subject, description, status, priority,"
            " custom_fields, source, created_at, updated_at) VALUES ('TKT-20250101-001', 's', '',"
            " 'open', 'normal', '{}', 'api', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        batch = 50_000
        for start in range(0, stored, batch):
            rows = [
                {"m": f"<stored-{i}@bench.example>", "now": datetime.now(UTC).replace(tzinfo=None)}
                for i in range(start, min(stored, start + batch))
            ]
            connection.execute(
                sa.text(
                    "INSERT INTO tticket_email_log (ticket_id, email_message_id, email_from,"
                    " is_reply, created_at, direction, decision, reason, email_to, email_cc,"
                    " body_text, body_visible, flags) VALUES (1, :m, 'a@b.example', false,"
                    " :now, 'inbound', 'new', '', '[]', '[]', '', '', '{}')"
                ),
                rows,
            )
    if runtime.db.dialect == "postgresql":
        with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE tticket_email_log")
    replies: list[ParsedEmail] = []
    for i in range(probes):
        target = (i * 7919) % stored
        raw = (
            f"From: c@x.example\r\nSubject: Re: x\r\nMessage-ID: <probe-{i}@x.example>\r\n"
            f"In-Reply-To: <unknown-{i}@x.example>\r\n"
            f"References: <stored-{target}@bench.example> <unknown-{i}@x.example>\r\n\r\nhi\r\n"
        ).encode()
        parsed = parse_email(raw)
        assert isinstance(parsed, ParsedEmail)
        replies.append(parsed)
    seconds = []
    with runtime.db.transaction(write=False) as session:
        for parsed in replies:
            start = time.perf_counter()
            decision = resolve(
                session,
                parsed,
                thread_signals(parsed),
                policy="participants",
                secret_key=runtime.secret_key,
            )
            seconds.append(time.perf_counter() - start)
            assert decision.ticket_id == 1
    runtime.close()
    return summarise(f"threading lookup, {stored:,} stored", seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description="hubdesk ingest benchmark")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookup", action="store_true", help="also the 10k vs 1M lookup")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="runs of the rate comparison")
    parser.add_argument(
        "--django-helpdesk", action="store_true", help="also django-helpdesk 2.6.1 (installs it)"
    )
    parser.add_argument(
        "--rates-only", action="store_true", help="only the rate comparison (no per-email runs)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/ingest.json"))
    args = parser.parse_args()
    raws = list(generate(args.count, seed=args.seed))
    size = sum(len(r) for r in raws)
    print(f"{len(raws)} messages, {size / len(raws) / 1024:.1f} KiB on average")
    compared = rate_runs(raws, args.runs, postgres=not args.skip_postgres, dh=args.django_helpdesk)
    width = max(len(k) for k in compared["median"])
    print(f"medians of {args.runs} runs (emails/s, ratios from the same run):")
    for key, value in compared["median"].items():
        print(f"  {key:<{width}}  {value:>10.3f}")
    if args.rates_only:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"count": len(raws), "rates": compared}, indent=2))
        return
    results: list[dict[str, Any]] = []
    default = summarise(
        "stdlib policy.default",
        timed(lambda r: email.message_from_bytes(r, policy=email.policy.default), raws),
    )
    compat = summarise(
        "stdlib policy.compat32",
        timed(lambda r: email.message_from_bytes(r, policy=email.policy.compat32), raws),
    )
    ours = summarise("hubdesk parse_email", timed(parse_email, raws))
    results += [default, compat, ours]
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
        work = Path(scratch)
        results.append(
            pipeline_run("pipeline on SQLite", f"sqlite:///{work}/bench.db", raws, work / "sqlite")
        )
        pg = None if args.skip_postgres else fresh_postgres(f"hubdesk_bench_{os.getpid()}")
        if pg is not None:
            results.append(pipeline_run("pipeline on PostgreSQL", pg, raws, work / "pg"))
        if args.lookup:
            results.append(lookup_run(f"sqlite:///{work}/l10k.db", work / "l1", 10_000))
            results.append(lookup_run(f"sqlite:///{work}/l1m.db", work / "l2", 1_000_000))
            if pg is not None:
                for stored in (10_000, 1_000_000):
                    url = fresh_postgres(f"hubdesk_bench_lookup_{stored}_{os.getpid()}")
                    if url is not None:
                        entry = lookup_run(url, work / f"pl{stored}", stored)
                        entry["name"] += " (PostgreSQL)"
                        results.append(entry)
    for entry in results:
        entry["ratio_to_policy_default"] = round(entry["per_second"] / default["per_second"], 3)
        entry["ratio_to_half_compat32"] = round(entry["per_second"] / (compat["per_second"] / 2), 3)
    width = max(len(e["name"]) for e in results)
    print(f"{'what':<{width}}  {'median ms':>10}  {'p99 ms':>9}  {'per s':>9}  {'x default':>9}")
    for e in results:
        print(
            f"{e['name']:<{width}}  {e['median_ms']:>10.3f}  {e['p99_ms']:>9.3f}  "
            f"{e['per_second']:>9.1f}  {e['ratio_to_policy_default']:>9.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"count": len(raws), "rates": compared, "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
