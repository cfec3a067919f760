"""Every input the fuzzer ever found (fuzz/regressions/) stays fixed (RELIABILITY T01).

`make fuzz` writes a finding there; this test replays each file through the parser and the
whole ingest on a real database, with the same checks the fuzzer applies (fuzz/targets.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz.targets import check_ingest, check_parse

from hubdesk.runtime import Runtime

REGRESSIONS = Path(__file__).resolve().parents[2] / "fuzz" / "regressions"
FIXTURES = sorted(
    p
    for p in REGRESSIONS.glob("*")
    if p.is_file() and p.suffix != ".md" and not p.name.startswith(".")
)


def test_the_regression_folder_is_read() -> None:
    """The fixtures this test replays exist (an empty folder would test nothing)."""
    assert FIXTURES, f"no fuzz regression fixtures in {REGRESSIONS}"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_parser_survives(path: Path) -> None:
    check_parse(path.read_bytes())


def test_ingest_survives_every_fixture(runtime: Runtime) -> None:
    for path in FIXTURES:
        check_ingest(runtime, path.read_bytes())
