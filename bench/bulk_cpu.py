"""CPU and rate of the bulk path in one process, for comparing two trees of the code in pairs.

Ingests `--count` generated mails (bench/mailgen.py) with `bulk.ingest_bulk` (the parse
helper on, as `hubdesk ingest` runs) into a fresh SQLite database and prints the ingesting
process's CPU a mail (`time.process_time`, which a slow disk does not inflate), the
ingesting thread's alone (`time.thread_time`: without the threads that write to the parse
helper, read from it and make the batch's blobs durable) and the rate.
Run it alternately from two trees (`git worktree add /tmp/base <commit>`) to compare code
versions on this shared machine:

    for i in 1 2 3 4; do
      PYTHONPATH=/tmp/base:/tmp/base/src .venv/bin/python -m bench.bulk_cpu
      PYTHONPATH=.:src .venv/bin/python -m bench.bulk_cpu
    done

`--blob-times` also times every blob written (`BlobStore.put`), in ms a mail. `--postgres`
ingests into a fresh PostgreSQL database instead (`HUBDESK_BENCH_PG`, dropped after); its
CPU is the ingesting process's alone, so read its rate beside it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.ingest import drop_postgres, fresh_postgres, runtime_for
from bench.mailgen import generate
from hubdesk.intake import bulk
from hubdesk.intake.sources import Source
from hubdesk.storage import blobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--blob-times", action="store_true")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    raws = list(generate(args.count))
    spent = [0.0, 0]
    if args.blob_times:
        put = blobs.BlobStore.put

        def timed_put(self: blobs.BlobStore, data: bytes) -> str:
            started = time.perf_counter()
            try:
                return put(self, data)
            finally:
                spent[0] += time.perf_counter() - started
                spent[1] += 1

        blobs.BlobStore.put = timed_put  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
        work = Path(scratch)
        name = f"hubdesk_bench_cpu_{os.getpid()}"
        url = fresh_postgres(name) if args.postgres else f"sqlite:///{work}/bulk.db"
        if url is None:
            raise SystemExit("PostgreSQL is not reachable (HUBDESK_BENCH_PG)")
        runtime = runtime_for(url, work / "data")
        sources = [Source(f"bench#{i}", (lambda raw=raw: raw)) for i, raw in enumerate(raws)]
        cpu, own, wall = time.process_time(), time.thread_time(), time.perf_counter()
        for _source, _outcome in bulk.ingest_bulk(runtime, sources):
            pass
        cpu, own = time.process_time() - cpu, time.thread_time() - own
        wall = time.perf_counter() - wall
        runtime.close()
        if args.postgres:
            drop_postgres(name)
    line = (
        f"cpu {1000 * cpu / args.count:.3f} ms a mail ({1000 * own / args.count:.3f} on the"
        f" ingesting thread), {args.count / wall:.0f} emails/s"
    )
    if args.blob_times:
        line += f"; {spent[1]} blobs written, {1000 * spent[0] / args.count:.3f} ms a mail"
    print(line)


if __name__ == "__main__":
    main()
