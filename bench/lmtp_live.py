"""The live LMTP path: time to the 250 for one client, and messages per second for eight.

Starts the worker's LMTP listener (and its processing, as in production) on loopback in front of
a fresh SQLite database (or PostgreSQL with `--postgres`), then sends generated mail
(`bench/mailgen.py`) with `smtplib.LMTP`: one client sending one message after the other (the
time from DATA to the 250, median and p99), then eight clients at once (messages per second over
the whole run). The clients run in a process of their own, as the MTA does, so that their Python
work does not share the receiver's interpreter lock; `--no-processing` leaves the pipeline out.
`--modes` picks how the receiver commits: `group` (the `GroupCommitter`, the default;
`group:MS` with another RECEIVER_GROUP_COMMIT_MS, `group:0` for no wait at all), or
`single` (one blob fsync and one transaction per delivery, the code before group commit) to
compare in the same run. A 250 is sent only after the ledger row is committed in both modes.

    .venv/bin/python -m bench.lmtp_live --count 300 --runs 3
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.ingest import drop_postgres, fresh_postgres, runtime_for
from bench.mailgen import generate
from hubdesk.channels.worker import Listeners, Worker
from hubdesk.inbound import service as inbound

RCPT = "support@support.example.com"


def _single(runtime: Any) -> Any:
    def receive(
        raw: bytes, *, source: str, envelope: Any = None, mailbox_id: Any = None, **_other: Any
    ) -> int:
        return inbound.receive(
            runtime.db, runtime.blobs, raw, source=source, envelope=envelope, mailbox_id=mailbox_id
        )

    return receive


def _send(port: int, raws: list[bytes], latencies: list[float]) -> None:
    with smtplib.LMTP("127.0.0.1", port) as client:
        for raw in raws:
            start = time.perf_counter()
            client.sendmail("customer@example.com", [RCPT], raw)
            latencies.append(time.perf_counter() - start)


def _clients(port: int, chunks: list[list[bytes]]) -> tuple[float, list[float]]:
    """In a process of its own (as the MTA is): one thread per chunk, all at once; returns
    the seconds from the first start to the last finish and every time to a 250."""
    latencies: list[float] = []
    threads = [threading.Thread(target=_send, args=(port, chunk, latencies)) for chunk in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies


def run(
    raws: list[bytes], mode: str, url: str, work: Path, *, process: bool = True
) -> dict[str, float]:
    runtime = runtime_for(url, work)
    worker = Worker(runtime, Listeners("127.0.0.1", 0, 0), imap=False, jobs=())
    if not process:  # only the receiving path: rows stay `received`
        worker.queue.start = lambda: None  # type: ignore[method-assign]
    worker.start()
    try:
        lmtp = worker.receivers[0]
        committer = lmtp.handler.committer
        if mode == "single":
            committer.receive = _single(runtime)  # type: ignore[method-assign]
        elif mode.startswith("group:"):  # another RECEIVER_GROUP_COMMIT_MS
            committer._window = float(mode.partition(":")[2]) / 1000
        half = len(raws) // 2
        rest = raws[half:]
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as clients:
            _seconds, one = clients.submit(_clients, lmtp.port, [raws[:half]]).result()
            commits_before = committer.commits
            chunks = [rest[i::8] for i in range(8)]
            seconds, many = clients.submit(_clients, lmtp.port, chunks).result()
        one.sort()
        return {
            "one client p50 ms": statistics.median(one) * 1000,
            "one client p99 ms": one[int(len(one) * 0.99) - 1] * 1000,
            "8 clients msg/s": len(rest) / seconds,
            "8 clients p50 ms": statistics.median(many) * 1000,
            "8 clients per commit": (
                len(rest) / (committer.commits - commits_before)
                if mode.startswith("group") and committer.commits > commits_before
                else 1.0
            ),
        }
    finally:
        worker.stop(grace=30)
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="hubdesk live LMTP benchmark")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--modes", default="single,group")
    parser.add_argument(
        "--no-processing", action="store_true", help="receive only (the pipeline does not run)"
    )
    args = parser.parse_args()
    raws = list(generate(args.count, seed=3))
    for mode in args.modes.split(","):
        results: list[dict[str, float]] = []
        for number in range(args.runs):
            with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
                name = f"hubdesk_bench_lmtp_{os.getpid()}"
                url = fresh_postgres(name) if args.postgres else f"sqlite:///{scratch}/l.db"
                if url is None:
                    return
                found = run(raws, mode, url, Path(scratch), process=not args.no_processing)
                if args.postgres:
                    drop_postgres(name)
            print(
                f"{mode} run {number + 1}: " + ", ".join(f"{k}: {v:.2f}" for k, v in found.items())
            )
            results.append(found)
        medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(f"{mode} median: " + ", ".join(f"{k}: {v:.2f}" for k, v in medians.items()))


if __name__ == "__main__":
    main()
