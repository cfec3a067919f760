"""Statements and CPU per email of the bulk path (`hubdesk ingest`'s batches), in process.

Counts every statement the engine sends (savepoints included; on PostgreSQL also those the
batch sends on its connections for statements of their own, `hubdesk.db.quick`), grouped by
its first words and table (a statement in a WITH clause by the table it inserts into), and
the ingesting process's CPU time, over the generated corpus on a fresh
SQLite and (when reachable) a fresh PostgreSQL database:

    .venv/bin/python -m bench.statements --count 400 [--skip-postgres] [--top 25]

The CPU time is the ingesting process's; the parse helpers' (`HUBDESK_INGEST_PARSE_WORKERS`,
which run beside it) is printed apart. CPU time per email is far less sensitive to the shared
machine's load than emails/s: use it (and the statement count, which does not depend on load
at all) to compare code versions.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.ingest import drop_postgres, fresh_postgres, runtime_for
from bench.mailgen import generate
from hubdesk.db import quick
from hubdesk.intake import bulk
from hubdesk.intake.sources import Source

_WORDS = re.compile(
    r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|"
    r"INSERT INTO (\S+)|UPDATE (\S+)|DELETE FROM (\S+)|SELECT .*?\sFROM\s+(\S+)|"
    r"WITH\s+\S+\s+AS\s+\(\s*INSERT INTO (\S+)|WITH|\S+)",
    re.S | re.I,
)


def kind(statement: str) -> str:
    found = _WORDS.match(statement)
    if found is None:
        return "?"
    table = next((group for group in found.groups()[1:] if group), "")
    return f"{found.group(1).split()[0].upper()} {table}".strip()


def one_run(url: str, raws: list[bytes], workdir: Path) -> dict[str, Any]:
    runtime = runtime_for(url, workdir)
    counts: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        counts[kind(statement)] += 1

    sources = [Source(f"bench#{i}", (lambda raw=raw: raw)) for i, raw in enumerate(raws)]
    engines = [runtime.db.engine]
    if runtime.db.dialect == "postgresql":
        engines.append(quick.engine_for(runtime.db.engine))
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    statuses: Counter[str] = Counter()
    cpu, wall = time.process_time(), time.perf_counter()
    helpers = _children_cpu()
    try:
        for _source, outcome in bulk.ingest_bulk(runtime, sources):
            statuses[outcome.status] += 1
    finally:
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        helpers = _children_cpu() - helpers
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
        runtime.close()
    return {
        "statements_per_email": sum(counts.values()) / len(raws),
        "cpu_ms_per_email": 1000 * cpu / len(raws),
        "helper_cpu_ms_per_email": 1000 * helpers / len(raws),
        "emails_per_second": len(raws) / wall,
        "by_kind": {k: v / len(raws) for k, v in counts.most_common()},
        "statuses": dict(statuses),
    }


def _children_cpu() -> float:
    """CPU seconds of ended child processes (the parse helpers, `hubdesk.intake.parse_ahead`)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    raws = list(generate(args.count))
    targets = [("SQLite", None)] + ([] if args.skip_postgres else [("PostgreSQL", "pg")])
    for name, pg in targets:
        results = []
        for number in range(args.runs):
            with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
                work = Path(scratch)
                url: str | None = f"sqlite:///{work}/s.db"
                database = f"hubdesk_bench_statements_{number}"
                if pg:
                    url = fresh_postgres(database)
                    if url is None:
                        break
                try:
                    results.append(one_run(url, raws, work / "data"))
                finally:
                    if pg:
                        drop_postgres(database)
        if not results:
            continue
        last = results[-1]
        print(
            f"{name}: {last['statements_per_email']:.2f} statements/email, CPU ms/email "
            + " / ".join(f"{r['cpu_ms_per_email']:.2f}" for r in results)
            + f" (median {statistics.median(r['cpu_ms_per_email'] for r in results):.2f}; "
            + "parse helpers "
            + " / ".join(f"{r['helper_cpu_ms_per_email']:.2f}" for r in results)
            + "), "
            + "emails/s "
            + " / ".join(f"{r['emails_per_second']:.1f}" for r in results)
            + f", {last['statuses']}"
        )
        for key, value in list(last["by_kind"].items())[: args.top]:
            print(f"    {value:6.3f}  {key}")


if __name__ == "__main__":
    main()
