"""Scale-out: how fast one, two (or more) `hubdesk worker` processes drain a shared backlog.

Fills a fresh PostgreSQL database (or SQLite with `--sqlite`) with a backlog of generated
mail (`bench/mailgen.py`) kept as `received` ledger rows (raw bytes in the blob store, as the
receivers leave them), then starts N `hubdesk worker` processes with no listeners. They share
the backlog through `inbound.claim_received` (FOR UPDATE SKIP LOCKED) and process each claim
as one batch. The rate is the rows settled divided by the time from the first to the last
`processed_at`, so process start-up is not counted; medians of `--runs` fresh runs per N.
The steady rate leaves out the first and the last 5 % of the rows settled: the workers'
first batches and the run's tail, where one worker finishes its last claim while the other
has nothing left (up to half a claim's time, which weighs more the smaller the backlog).
Beside each rate: the CPU time an email of the workers and of the PostgreSQL server (every
`postgres` process, read from /proc on Linux), from the first settled row to the last, which
says how much of the two cores a worker leaves to a second one. `--logs DIR` keeps each
worker's log (its batches that ran again, its errors). Each run also times a pure-Python
loop in one process and in two at once (`_machine_scaling`): what this machine itself gives
two CPU-bound processes, the ceiling the workers' ratio is read against.

    .venv/bin/python -m bench.workers --count 3000 --runs 3 --workers 1,2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from bench.ingest import drop_postgres, fresh_postgres, runtime_for
from bench.mailgen import generate
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.tickets.models import Ticket

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


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of `pids` so far (Linux /proc; 0 for a pid gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def _postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cpu(workers: list[int]) -> tuple[float, float]:
    """(the workers' CPU seconds, the PostgreSQL server's) so far."""
    return _cpu_seconds(workers), _cpu_seconds(_postgres_pids())


_LOOP = "s = 0\nfor i in range(10_000_000):\n    s += i\n"


def _machine_scaling(repeats: int = 3) -> float:
    """How many times the work of one CPU-bound process two of them do in the same time
    (2.0 on two idle cores of their own; less where the cores share their host): the
    median time of one alone against the median of two at once, taken in turns."""

    def together(count: int) -> float:
        started = time.perf_counter()
        loops = [subprocess.Popen([sys.executable, "-c", _LOOP]) for _ in range(count)]
        for loop in loops:
            loop.wait()
        return time.perf_counter() - started

    alone, paired = [], []
    for _ in range(repeats):
        alone.append(together(1))
        paired.append(together(2))
    return 2 * statistics.median(alone) / statistics.median(paired)


STEADY_TRIM = 0.05
"""The share of a run's settled rows left out at each end for its steady rate."""


def _rate(settled: list[datetime], trim: float) -> float:
    """Emails a second between the settled times `trim` of the way in from each end (0: the
    first and the last row): with `trim`, the run's start (the workers' first batches) and its
    tail (one worker finishing its last claim while the other has none left) are left out."""
    first, last = round(trim * (len(settled) - 1)), round((1 - trim) * (len(settled) - 1))
    rows = last - first if trim else len(settled)  # the whole run: every row, as before
    return rows / (settled[last] - settled[first]).total_seconds()


def run(
    url: str, work: Path, raws: list[bytes], workers: int, logs: Path | None = None
) -> tuple[float, float, float, float, int]:
    """The rate (emails/s) over the whole run and over its steady middle (`_rate`), the
    CPU ms an email of the workers and of PostgreSQL, and the tickets the mail made (the
    same for any number of workers when they thread alike); each worker's log goes to
    `logs` (a file a worker, named after the run) when given."""
    _backlog(url, work, raws)
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "HUBDESK_DATA_DIR": str(work / "data"),
        "HUBDESK_SECRET_KEY": "bench-" + "k" * 40,
        "MAIL_DOMAIN": "support.example.com",
    }
    sinks = [
        (logs / f"{work.name}-worker-{index + 1}.log").open("wb") if logs else None
        for index in range(workers)
    ]
    started = [
        subprocess.Popen(
            [HUBDESK, "worker", "--lmtp-port", "0", "--smtp-port", "0"],
            env=environment,
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=sink or subprocess.DEVNULL,
        )
        for sink in sinks
    ]
    runtime = runtime_for(url, work)
    pids = [process.pid for process in started]
    at_start: tuple[float, float] | None = None
    measured = len(raws)  # the emails settled between the two CPU readings
    try:
        while True:
            with runtime.db.transaction(write=False) as session:
                left = session.scalar(
                    select(func.count()).where(InboundMessage.status == "received")
                )
                if at_start is None and left is not None and left < len(raws):
                    at_start, measured = _cpu(pids), left
                if not left:
                    at_end = _cpu(pids)
                    settled = sorted(
                        at
                        for at in session.scalars(select(InboundMessage.processed_at))
                        if at is not None
                    )
                    tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
                    break
            time.sleep(0.2)
        begun = at_start or (0.0, 0.0)
        worker_ms, server_ms = (
            1000 * (end - start) / max(measured, 1)
            for end, start in zip(at_end, begun, strict=True)
        )
        return _rate(settled, 0.0), _rate(settled, STEADY_TRIM), worker_ms, server_ms, tickets
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(60)
        for sink in sinks:
            if sink is not None:
                sink.close()
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="hubdesk worker scale-out benchmark")
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--logs", type=Path, help="keep each worker's log in this folder")
    args = parser.parse_args()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    # Workers number tickets in the order their batches commit, not the corpus's: a reply
    # naming its ticket's predicted number would name another customer's ticket, which
    # hubdesk refuses (a new ticket instead), more work for two workers than for one.
    raws = list(generate(args.count, seed=5, subject_tokens=False))
    counts = [int(n) for n in args.workers.split(",")]
    found: dict[int, list[float]] = {n: [] for n in counts}
    steadies: dict[int, list[float]] = {n: [] for n in counts}
    cpu: dict[int, list[tuple[float, float]]] = {n: [] for n in counts}
    scaling: list[float] = []
    for number in range(args.runs):
        scaling.append(_machine_scaling())
        print(f"run {number + 1}: two CPU-bound processes x{scaling[-1]:.2f}", flush=True)
        for workers in counts:  # interleaved, so that the machine's load hits each alike
            with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
                name = f"hubdesk_bench_workers_{os.getpid()}"
                url = f"sqlite:///{scratch}/w.db" if args.sqlite else fresh_postgres(name)
                if url is None:
                    return
                rate, steady, worker_ms, server_ms, tickets = run(
                    url, Path(scratch), raws, workers, args.logs
                )
                if not args.sqlite:
                    drop_postgres(name)
            found[workers].append(rate)
            steadies[workers].append(steady)
            cpu[workers].append((worker_ms, server_ms))
            print(
                f"run {number + 1}, {workers} worker(s): {rate:.1f} emails/s (steady"
                f" {steady:.1f}); CPU an email: workers {worker_ms:.2f} ms, PostgreSQL"
                f" {server_ms:.2f} ms; {tickets} tickets",
                flush=True,
            )
    base = statistics.median(found[counts[0]])
    steady_base = statistics.median(steadies[counts[0]])
    for workers in counts:
        median = statistics.median(found[workers])
        steady = statistics.median(steadies[workers])
        worker_ms = statistics.median(w for w, _s in cpu[workers])
        server_ms = statistics.median(s for _w, s in cpu[workers])
        print(
            f"{workers} worker(s): median {median:.1f} emails/s, x{median / base:.2f}; steady"
            f" {steady:.1f} emails/s, x{steady / steady_base:.2f}; CPU an email: workers"
            f" {worker_ms:.2f} ms, PostgreSQL {server_ms:.2f} ms"
        )
    print(f"the machine: two CPU-bound processes x{statistics.median(scaling):.2f} (median)")


if __name__ == "__main__":
    main()
