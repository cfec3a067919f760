"""`make fuzz`: run atheris (libFuzzer) on the parser or the whole ingest for a given time.

    python -m fuzz.run --target parse --seconds 300 [--jobs 1]
    python -m fuzz.run --target ingest --seconds 300

The seed corpus is every raw message of the shared real-world corpus (read in place, written
to a temporary folder the fuzzer may grow; never into the project) plus the kept regression
fixtures. A finding (an exception, a `parser_error`, an ingest ending `failed`, a run over
`--timeout` seconds of one input, or over the memory limit) is written to `fuzz/regressions/`
by libFuzzer as `crash-…`, `timeout-…` or `oom-…`; `tests/unit/test_fuzz_regressions.py`
replays every file there in `make test`. The final statistics (executions, coverage) are
printed at the end; docs/reliability.md records a run.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
PROJECT = Path(__file__).resolve().parents[1]


def seed(into: Path, corpus_dir: Path) -> int:
    """Copy the real-world raw messages and the regression fixtures into `into`."""
    sys.path.insert(0, str(PROJECT))
    from tests.corpus.corpus import Corpus

    count = 0
    if corpus_dir.is_dir():
        corpus = Corpus(corpus_dir)
        for source in corpus.sources():
            for _label, raw in corpus.raw_messages(source):
                if len(raw) <= 256 * 1024:  # libFuzzer's inputs stay small and fast
                    (into / f"seed-{count:05d}").write_bytes(raw)
                    count += 1
    for path in REGRESSIONS.glob("*"):
        if path.is_file() and path.suffix != ".md" and not path.name.startswith("."):
            shutil.copy(path, into / f"regression-{path.name}")
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("parse", "ingest"), default="parse")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--timeout", type=int, default=10, help="seconds for one input")
    parser.add_argument("--rss-mb", type=int, default=2048)
    parser.add_argument("--corpus", type=Path, default=PROJECT.parent / "shared" / "corpus")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hubdesk-fuzz-"))
    seeds = work / "seeds"
    seeds.mkdir()
    print(f"fuzz: {seed(seeds, args.corpus)} seed inputs in {seeds}", file=sys.stderr)
    REGRESSIONS.mkdir(exist_ok=True)

    with atheris.instrument_imports(include=["hubdesk"]):
        from fuzz import targets

    def kept(check: Callable[[bytes], None]) -> Callable[[bytes], None]:
        """Write a failing input to fuzz/regressions/ before the exception reaches libFuzzer
        (whose own crash artifact is lost when the run dies of its timer signal)."""

        def one_input(data: bytes) -> None:
            try:
                check(data)
            except BaseException:
                name = "crash-" + hashlib.sha1(data, usedforsecurity=False).hexdigest()
                (REGRESSIONS / name).write_bytes(data)
                print(f"fuzz: finding kept as fuzz/regressions/{name}", file=sys.stderr)
                raise

        return one_input

    if args.target == "parse":
        one_input = kept(targets.check_parse)

    else:
        from hubdesk.config import Settings
        from hubdesk.db.migrate import upgrade
        from hubdesk.runtime import Runtime

        settings = Settings(
            database_url=f"sqlite:///{work / 'fuzz.db'}",
            data_dir=work / "data",
            secret_key="fuzz-" + "k" * 40,
            _env_file=None,  # type: ignore[call-arg]
        )
        runtime = Runtime.build(settings)
        upgrade(runtime.db.engine)

        one_input = kept(lambda data: targets.check_ingest(runtime, data))

    argv = [
        sys.argv[0],
        f"-max_total_time={args.seconds}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_mb}",
        "-max_len=262144",
        "-print_final_stats=1",
        f"-artifact_prefix={REGRESSIONS}/",
        str(seeds),
    ]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
