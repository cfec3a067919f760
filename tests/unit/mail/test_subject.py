"""Subjects: cleaned for display, and normalised without reply/forward prefixes and path
tags in the languages our users write, keeping the ticket token. Linear (T11)."""

from __future__ import annotations

import pytest

from hubdesk.mail.subject import clean_subject, normalize_subject
from tests.support.timing import assert_linear
from tests.unit.mail.builders import message
from tests.unit.mail.conftest import parsed


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Printer", "Printer"),
        ("RE: Printer", "Printer"),
        ("re: Printer", "Printer"),
        ("Fwd: Printer", "Printer"),
        ("Fw: Printer", "Printer"),
        ("FW: Printer", "Printer"),
        ("SV: Printer", "Printer"),
        ("VS: Printer", "Printer"),
        ("AW: Printer", "Printer"),
        ("WG: Printer", "Printer"),
        ("Antw: Printer", "Printer"),
        ("Vs: Printer", "Printer"),
        ("Re[2]: Printer", "Printer"),
        ("Re(3): Printer", "Printer"),
        ("Re: Re: Printer", "Printer"),
        ("Re : Printer", "Printer"),
        ("RE:Printer", "Printer"),
        ("SV: VS: AW: Printer", "Printer"),
        ("TR: Printer", "Printer"),
        ("RV: Printer", "Printer"),
        ("Odp: Printer", "Printer"),
        ("[EXTERNAL] Re: Printer", "Printer"),
        ("[EKSTERN] SV: Printer", "Printer"),
        ("[SPAM] Printer", "Printer"),
        ("***SPAM*** Printer", "Printer"),
        ("Re: [External] Fwd: Printer", "Printer"),
        ("Re: [TKT-20251215-001] Printer", "[TKT-20251215-001] Printer"),
        ("[TKT-20251215-001] Re: Printer", "[TKT-20251215-001] Printer"),
        ("Re: [EXTERNAL] [TKT-20251215-001] SV: Printer", "[TKT-20251215-001] Printer"),
        ("Printer Re: again", "Printer Re: again"),
        ("Remote: access", "Remote: access"),
        ("Reply needed", "Reply needed"),
        ("[Urgent] Re: Printer", "[Urgent] Printer"),
        ("Re:", ""),
    ],
)
def test_normalize_subject(subject: str, expected: str) -> None:
    """Prefixes and path tags go; other bracketed tags (the ticket token) are kept."""
    assert normalize_subject(subject) == expected


def test_clean_subject_decodes_and_collapses() -> None:
    """Encoded-words decoded, controls removed, whitespace collapsed."""
    assert clean_subject("=?utf-8?q?Sv=C3=A6r?=\r\n\t  test\x07 ok") == "Svær test ok"
    assert clean_subject(None) == ""


def test_parsed_subject_fields() -> None:
    """ParsedEmail carries both forms."""
    p = parsed(message(headers=[("Subject", "SV: =?utf-8?q?Fejl_p=C3=A5?= [TKT-20251215-001]")]))
    assert p.subject == "SV: Fejl på [TKT-20251215-001]"
    assert p.subject_normalized == "Fejl på [TKT-20251215-001]"


@pytest.mark.parametrize("unit", ["[TKT-", "Re: ", "((((", "[a] ", "Re[2]: ", "http://" + "a" * 60])
def test_normalization_is_linear(unit: str) -> None:
    """T11: time(1 MB) about 10 x time(100 KB) (assert_linear's bound; quadratic would be
    100x)."""
    small = unit * (100_000 // len(unit))
    large = unit * (1_000_000 // len(unit))
    assert_linear(normalize_subject, small, large)
