"""The bulk path with and without its parse helper (`HUBDESK_INGEST_PARSE_WORKERS`), A/B.

Ingests the generated corpus with `bulk.ingest_bulk` into a fresh SQLite database, once with
the parse helper and once without, in pairs (the order alternating), each run followed by
the bare `policy.default` parse of 300 of the same mails. Every figure is given in units of
that bare parse, measured right after its own run, so that the shared machine's speed
(which changes by 1.5x within minutes) cancels out; medians over the pairs:

    .venv/bin/python -m bench.parse_ahead --count 1000 --pairs 8

- `cpu`: the ingesting process's CPU time (all its threads), per bare-parse time;
- `wall`: the run's wall time, per bare-parse time (lower is faster);
- the helper's own CPU time, per mail.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bench.ingest import bare_parse, runtime_for
from bench.mailgen import generate
from hubdesk.intake import bulk
from hubdesk.intake.sources import Source

_CALIBRATION = 300


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(raws: list[bytes], workers: int) -> tuple[float, float, float]:
    """(CPU, wall, helper CPU a mail in ms), the first two in bare-parse units."""
    os.environ["HUBDESK_INGEST_PARSE_WORKERS"] = str(workers)
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
        work = Path(scratch)
        runtime = runtime_for(f"sqlite:///{work}/bench.db", work / "data")
        sources = [Source(f"bench#{i}", (lambda raw=raw: raw)) for i, raw in enumerate(raws)]
        helpers = _children_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            for _source, _outcome in bulk.ingest_bulk(runtime, sources):
                pass
        finally:
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            helpers = _children_cpu() - helpers
            runtime.close()
    started = time.process_time()
    for raw in raws[:_CALIBRATION]:
        bare_parse(raw)
    bare = (time.process_time() - started) / _CALIBRATION * len(raws)
    return cpu / bare, wall / bare, 1000 * helpers / len(raws)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="helpers in the B runs")
    args = parser.parse_args()
    raws = list(generate(args.count))
    runs: dict[int, list[tuple[float, float, float]]] = {0: [], args.workers: []}
    for pair in range(args.pairs):
        order = (0, args.workers) if pair % 2 == 0 else (args.workers, 0)
        for workers in order:
            runs[workers].append(one_run(raws, workers))
    for workers, found in runs.items():
        cpu, wall, helper = zip(*found, strict=True)
        print(
            f"parse workers {workers}: cpu {statistics.median(cpu):.2f}, "
            f"wall {statistics.median(wall):.2f} (bare-parse units; runs "
            + ", ".join(f"{w:.2f}" for w in wall)
            + f"), helper CPU {statistics.median(helper):.2f} ms a mail"
        )


if __name__ == "__main__":
    main()
