"""Shared helpers for the mail parser tests: CPU-time measurement, parse-or-fail helpers."""

from __future__ import annotations

from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail, ParseRejection
from tests.support.timing import best_cpu_seconds, cpu_seconds

__all__ = ["CPU_BUDGET_SECONDS", "best_cpu_seconds", "cpu_seconds", "parsed", "rejected"]

# RELIABILITY design rule 5: no input may cost more than about 2 s of CPU. Only tests marked
# `long` (make test-long) assert this absolute figure; `make test` checks the shape of the
# cost (tests/support/timing.py), which a busy machine cannot break. Real runs take
# milliseconds; the bound is generous so the tests are not flaky on a loaded machine.
CPU_BUDGET_SECONDS = 2.0


def parsed(raw: bytes, **kwargs: object) -> ParsedEmail:
    """Parse and insist on a ParsedEmail (tests of accepted input use this)."""
    result = parse_email(raw, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, ParsedEmail), result
    return result


def rejected(raw: bytes) -> ParseRejection:
    result = parse_email(raw)
    assert isinstance(result, ParseRejection), "expected a rejection"
    return result
