"""Scale-out: how fast one, two (or more) `hubdesk worker` processes drain a shared backlog.

Fills a fresh PostgreSQL database (or SQLite with `--sqlite`) with a backlog of generated
mail (`bench/mailgen.py`) kept as `received` ledger rows (raw bytes in the blob store, as the
receivers leave them), then starts N `hubdesk worker` processes with no listeners. They share
the backlog through `inbound.claim_received` (FOR UPDATE SKIP LOCKED) and process each claim
as one batch. The rate is the rows settled divided by the time from the first to the last
`processed_at`, so process start-up is not counted; medians of `--runs` fresh runs per N.

    .venv/bin/python -m bench.workers --count 600 --runs 3 --workers 1,2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.ingest import drop_postgres, fresh_postgres, runtime_for
from bench.mailgen import generate
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage

HUBDESK = str(Path(sys.executable).parent / "hubdesk")


def _backlog(url: str, work: Path, raws: list[bytes]) -> None:
    runtime = runtime_for(url, work)
    try:
        runtime.blobs.begin_batch()
        with runtime.db.transaction() as session:
            received = [(runtime.blobs.put(raw), len(raw), "bench") for raw in raws]
            inbound.add_received_many(session, received)
            runtime.blobs.sync_batch()
        runtime.blobs.end_batch()
    finally:
        runtime.close()


def run(url: str, work: Path, raws: list[bytes], workers: int) -> float:
    _backlog(url, work, raws)
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "HUBDESK_DATA_DIR": str(work / "data"),
        "HUBDESK_SECRET_KEY": "bench-" + "k" * 40,
        "MAIL_DOMAIN": "support.example.com",
    }
    started = [
        subprocess.Popen(
            [HUBDESK, "worker", "--lmtp-port", "0", "--smtp-port", "0"],
            env=environment,
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    runtime = runtime_for(url, work)
    try:
        while True:
            with runtime.db.transaction(write=False) as session:
                left = session.scalar(
                    select(func.count()).where(InboundMessage.status == "received")
                )
                if not left:
                    first, last = session.execute(
                        select(
                            func.min(InboundMessage.processed_at),
                            func.max(InboundMessage.processed_at),
                        )
                    ).one()
                    break
            time.sleep(0.2)
        return len(raws) / (last - first).total_seconds()
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(60)
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="hubdesk worker scale-out benchmark")
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    raws = list(generate(args.count, seed=5))
    counts = [int(n) for n in args.workers.split(",")]
    found: dict[int, list[float]] = {n: [] for n in counts}
    for number in range(args.runs):
        for workers in counts:  # interleaved, so that the machine's load hits each alike
            with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
                name = f"hubdesk_bench_workers_{os.getpid()}"
                url = f"sqlite:///{scratch}/w.db" if args.sqlite else fresh_postgres(name)
                if url is None:
                    return
                rate = run(url, Path(scratch), raws, workers)
                if not args.sqlite:
                    drop_postgres(name)
            found[workers].append(rate)
            print(f"run {number + 1}, {workers} worker(s): {rate:.1f} emails/s", flush=True)
    base = statistics.median(found[counts[0]])
    for workers in counts:
        median = statistics.median(found[workers])
        print(f"{workers} worker(s): median {median:.1f} emails/s, x{median / base:.2f}")


if __name__ == "__main__":
    main()
