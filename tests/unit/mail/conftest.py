"""Shared helpers for the mail parser tests: CPU-time measurement, parse-or-fail helpers."""

from __future__ import annotations

import time
from collections.abc import Callable

from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail, ParseRejection

# RELIABILITY design rule 5: no input may cost more than about 2 s of CPU. Real runs take
# milliseconds; the bound is generous so the tests are not flaky on a loaded machine.
CPU_BUDGET_SECONDS = 2.0


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU time (process time, not wall time) that `fn()` took."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def best_cpu_seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    """The smallest CPU time of `repeat` runs (for linearity ratios: noise only adds)."""
    return min(cpu_seconds(fn) for _ in range(repeat))


def parsed(raw: bytes, **kwargs: object) -> ParsedEmail:
    """Parse and insist on a ParsedEmail (tests of accepted input use this)."""
    result = parse_email(raw, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, ParsedEmail), result
    return result


def rejected(raw: bytes) -> ParseRejection:
    result = parse_email(raw)
    assert isinstance(result, ParseRejection), "expected a rejection"
    return result

