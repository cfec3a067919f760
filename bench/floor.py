"""The floor under the bulk path: what its rows cost when written set-wise, against the parses.

Ingests the generated corpus with the bulk path (`hubdesk ingest`'s batches) into a fresh
SQLite database, then writes every row it made (tickets, email log, participants, tags,
audit, SLA clocks, ledger, dedupe keys, ... and the search documents) again into an empty
copy of the schema with one `executemany` per table in one transaction (WAL, synchronous=FULL,
the schema's triggers on), and reports, per email and in the same run:

- the bulk path's CPU time;
- that set-wise write's CPU and wall time (the database's own floor for the same rows);
- the bare stdlib parse (`policy.default` + body) and hubdesk's parser.

What lies between the bulk path and "parse + set-wise write" is the per-message Python of the
pipeline and the ORM's unit of work: the part a two-phase executor (decide a batch in memory,
then write table by table) would remove.

    .venv/bin/python -m bench.floor --count 1000
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bench import ingest
from bench.mailgen import generate
from hubdesk.mail.parse import parse_email

_SKIPPED = ("sqlite_%", "tticket_search%", "alembic%")


def _rows(database: Path) -> tuple[dict[str, tuple[list[str], list[tuple[object, ...]]]], list]:
    source = sqlite3.connect(database)
    where = " AND ".join(f"name NOT LIKE '{p}'" for p in _SKIPPED)
    # names below come from the schema itself (sqlite_master, table_info), never from input
    listed = f"SELECT name FROM sqlite_master WHERE type='table' AND {where}"  # noqa: S608
    tables = [r[0] for r in source.execute(listed)]
    found = {}
    for table in tables:
        columns = [c[1] for c in source.execute(f"PRAGMA table_info({table})")]
        rows = source.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()  # noqa: S608
        if rows:
            found[table] = (columns, rows)
    documents = source.execute("SELECT rowid, document FROM tticket_search").fetchall()
    source.close()
    return found, documents


def _write_setwise(empty: Path, target: Path, rows: dict, documents: list) -> tuple[float, float]:
    shutil.copy(empty, target)
    connection = sqlite3.connect(target, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    cpu, wall = time.process_time(), time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    for table, (columns, values) in rows.items():
        connection.execute(f"DELETE FROM {table}")  # noqa: S608 - the migrations' seeded rows
        marks = ", ".join("?" * len(columns))
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        connection.executemany(insert, values)
    connection.executemany("INSERT INTO tticket_search (rowid, document) VALUES (?, ?)", documents)
    connection.execute("COMMIT")
    spent = time.process_time() - cpu, time.perf_counter() - wall
    connection.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="runs of the set-wise write")
    args = parser.parse_args()
    n = args.count
    raws = list(generate(n, seed=1))
    work = Path(tempfile.mkdtemp(prefix="hubdesk-floor-"))
    try:
        cpu = time.process_time()
        rate = ingest.bulk_run(f"sqlite:///{work / 'full.db'}", raws, work / "full")
        bulk_cpu = (time.process_time() - cpu) / n
        ingest.runtime_for(f"sqlite:///{work / 'empty.db'}", work / "empty").close()
        rows, documents = _rows(work / "full.db")
        spent = [
            _write_setwise(work / "empty.db", work / f"floor-{i}.db", rows, documents)
            for i in range(args.runs)
        ]
        cpu = time.process_time()
        for raw in raws:
            ingest.bare_parse(raw)
        bare = (time.process_time() - cpu) / n
        cpu = time.process_time()
        for raw in raws:
            parse_email(raw)
        ours = (time.process_time() - cpu) / n
    finally:
        shutil.rmtree(work, ignore_errors=True)
    count = sum(len(values) for _columns, values in rows.values()) + len(documents)
    print(f"{n} emails, {count} rows in {len(rows) + 1} tables ({count / n:.1f} a mail)")
    print(f"bulk path:            {bulk_cpu * 1000:7.3f} ms CPU a mail ({rate:.1f} emails/s)")
    print(
        f"set-wise write:       {statistics.median(c for c, _w in spent) / n * 1000:7.3f} ms CPU, "
        f"{statistics.median(w for _c, w in spent) / n * 1000:.3f} ms wall a mail"
    )
    print(f"bare parse:           {bare * 1000:7.3f} ms CPU a mail")
    print(f"hubdesk parse_email:  {ours * 1000:7.3f} ms CPU a mail")


if __name__ == "__main__":
    main()
