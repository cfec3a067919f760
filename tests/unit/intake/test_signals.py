"""Ticket numbers in subjects: the spec's two forms, nothing looser, in linear time."""

from __future__ import annotations

import pytest

from hubdesk.intake.signals import subject_ticket_numbers
from tests.support.timing import assert_linear


@pytest.mark.parametrize(
    ("subject", "numbers"),
    [
        ("Re: TKT-20251215-001", ("TKT-20251215-001",)),
        ("RE: re: TKT-20251215-001 thanks", ("TKT-20251215-001",)),
        ("SV: TKT-20251215-001", ("TKT-20251215-001",)),
        ("AW: TKT-20251215-001", ("TKT-20251215-001",)),
        ("Re[2]: TKT-20251215-001", ("TKT-20251215-001",)),
        ("[TKT-20251215-001] Printer", ("TKT-20251215-001",)),
        ("Fwd: Re: [TKT-20251215-001] Printer", ("TKT-20251215-001",)),
        ("Re: Printer [TKT-20251215-1000]", ("TKT-20251215-1000",)),
        ("[tkt-20251215-001]", ("TKT-20251215-001",)),
        ("[TKT-20251215-001] and [TKT-20251216-002]", ("TKT-20251215-001", "TKT-20251216-002")),
    ],
)
def test_spec_forms(subject: str, numbers: tuple[str, ...]) -> None:
    """`[TKT-…]` anywhere and `Re: TKT-…` at the start are ticket tokens."""
    assert subject_ticket_numbers(subject) == numbers


@pytest.mark.parametrize(
    "subject",
    [
        "Question about TKT-20251215-001",
        "TKT-20251215-001",
        "Re: Ticket 123",
        "Re: TKT-2025121-001",
        "Re: TKT-20251215-01",
        "[TKT-20251215-001",
    ],
)
def test_not_tokens(subject: str) -> None:
    """A bare number in running text, or a malformed one, is not a token (spec: Option B)."""
    assert subject_ticket_numbers(subject) == ()


@pytest.mark.parametrize("unit", ["[TKT-", "Re: ", "((((", "[TKT-20251215-00", "Re[9999]:"])
def test_linear_on_adversarial_subjects(unit: str) -> None:
    """1 MB of a hostile pattern costs about ten times 100 KB, not a hundred (T11)."""
    assert_linear(
        subject_ticket_numbers, unit * (100_000 // len(unit)), unit * (1_000_000 // len(unit))
    )
