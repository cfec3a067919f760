"""The instructions the bulk path spends on `--count` generated mails, counted by callgrind.

Timings on this shared machine move by 20 % between two runs of the same code; the number of
instructions a run executes does not (two runs of one tree: 2,751.8 and 2,751.1 million for
400 mails). Under callgrind only the ingest itself is counted: the mails are generated, the
database made and migrated first, and the ingest runs inside `operator.call`, which is what
callgrind is told to count (nothing else in the pipeline calls it). The batch time bound is
lifted (`HUBDESK_INGEST_BATCH_SECONDS=600`), since under callgrind a run is some 70 times
slower and would close every batch early. The parse helper process is not counted (callgrind
follows no child); nor is the kernel's work (system calls, the disk), and SHA-256 is counted
without the CPU's SHA instructions, which callgrind does not emulate, so compare two trees
with it, not a tree with a clock. Needs valgrind (`apt-get install valgrind`):

    HUBDESK_INGEST_BATCH_SECONDS=600 PYTHONPATH=.:src valgrind --tool=callgrind \\
        --collect-atstart=no --toggle-collect='_operator_call*' \\
        --callgrind-out-file=/tmp/ingest.callgrind \\
        .venv/bin/python -m bench.instructions --count 400

and read "Collected" at the end of its output (about 4 minutes for 400 mails).
"""

from __future__ import annotations

import argparse
import operator
import tempfile
from pathlib import Path

from bench.ingest import runtime_for
from bench.mailgen import generate
from hubdesk.intake import bulk
from hubdesk.intake.sources import Source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=400)
    args = parser.parse_args()
    raws = list(generate(args.count))
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as scratch:
        runtime = runtime_for(f"sqlite:///{scratch}/bulk.db", Path(scratch) / "data")
        sources = [Source(f"bench#{i}", (lambda raw=raw: raw)) for i, raw in enumerate(raws)]
        done = operator.call(lambda: sum(1 for _ in bulk.ingest_bulk(runtime, sources)))
        runtime.close()
    print(f"{done} mails ingested")


if __name__ == "__main__":
    main()
