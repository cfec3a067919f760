"""Re-running an import: how fast `hubdesk ingest` passes over mail it already has.

An admin's import of an archive stops (Ctrl-C, a crash, a full disk) and is started again
with the same arguments: everything that committed comes back as `duplicate`, found by the
bytes' checksum. This benchmark ingests a generated corpus (`bench/mailgen.py`) with the bulk
path into a fresh SQLite database, then times the same pass again (every message a
duplicate), and reports both rates and the bare stdlib parse of the same files, from the same
run (medians of `--runs` fresh runs).

    PYTHONPATH=. .venv/bin/python -m bench.rerun --count 2000 --runs 3
"""

from __future__ import annotations

import argparse
import email
import email.policy
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.ingest import runtime_for
from bench.mailgen import generate
from hubdesk.intake import bulk
from hubdesk.intake.sources import Source


def _pass(url: str, work: Path, raws: list[bytes]) -> tuple[float, Counter[str]]:
    runtime = runtime_for(url, work)
    try:
        sources = [Source(f"m{i}", (lambda raw=raw: raw)) for i, raw in enumerate(raws)]
        statuses: Counter[str] = Counter()
        start = time.perf_counter()
        for _source, outcome in bulk.ingest_bulk(runtime, sources):
            statuses[outcome.status] += 1
        return len(raws) / (time.perf_counter() - start), statuses
    finally:
        runtime.close()


def _bare_parse(raws: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in raws:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(("plain", "html"))  # type: ignore[attr-defined]
        if body is not None:
            body.get_content()
    return len(raws) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description="re-running an import")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    raws = list(generate(args.count))
    first, again, bare = [], [], []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            url = f"sqlite:///{work / 'hubdesk.db'}"
            rate, statuses = _pass(url, work, raws)
            first.append(rate)
            rate_again, statuses_again = _pass(url, work, raws)
            again.append(rate_again)
            assert statuses_again == Counter(duplicate=len(raws)), statuses_again
        bare.append(_bare_parse(raws))
        print(
            f"run {run + 1}: first pass {first[-1]:.0f} emails/s ({dict(statuses)}), "
            f"again {again[-1]:.0f} emails/s (all duplicates), bare parse {bare[-1]:.0f}/s"
        )
    print(
        f"median: first pass {statistics.median(first):.0f} emails/s, again "
        f"{statistics.median(again):.0f} emails/s "
        f"(x{statistics.median(a / f for a, f in zip(again, first, strict=True)):.2f} the first "
        f"pass, x{statistics.median(a / b for a, b in zip(again, bare, strict=True)):.2f} the "
        "bare parse)"
    )


if __name__ == "__main__":
    main()
