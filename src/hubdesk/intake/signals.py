"""Threading signals read from a parsed email (pure).

The spec's Option B, in order of strength: the ids in In-Reply-To, then References newest
first; ticket numbers found inside those ids; then the subject forms `[TKT-YYYYMMDD-NNN]`
and `Re: TKT-YYYYMMDD-NNN`. Every pattern here is linear (no nested quantifiers), so
hostile subjects and id lists cost time proportional to their length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from hubdesk.mail.types import ParsedEmail

MAX_IDS: Final = 100
_NUMBER: Final = re.compile(r"TKT-\d{8}-\d{3,}", re.IGNORECASE)
_BRACKETED: Final = re.compile(r"\[\s?(TKT-\d{8}-\d{3,})\s?\]", re.IGNORECASE)
_REPLY_PREFIX: Final = re.compile(r"(?:re|sv|aw|antw|ref)(?:\[\d{1,4}\])?\s?:\s?", re.IGNORECASE)
_LEADING_NUMBER: Final = re.compile(r"(TKT-\d{8}-\d{3,})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ThreadSignals:
    ids: tuple[str, ...]
    """In-Reply-To, then References newest first, without repeats."""
    from_in_reply_to: int
    """How many of `ids` (at the front) came from In-Reply-To."""
    numbers_in_ids: tuple[str, ...]
    subject_numbers: tuple[str, ...]


def thread_signals(parsed: ParsedEmail) -> ThreadSignals:
    ids: list[str] = []
    from_in_reply_to = 0
    for position, message_id in enumerate((*parsed.in_reply_to, *reversed(parsed.references))):
        if message_id not in ids and message_id != parsed.message_id:
            ids.append(message_id)
            from_in_reply_to += position < len(parsed.in_reply_to)
        if len(ids) == MAX_IDS:
            break
    numbers: list[str] = []
    for message_id in ids:
        for match in _NUMBER.finditer(message_id):
            _append(numbers, match.group(0))
    return ThreadSignals(
        ids=tuple(ids),
        from_in_reply_to=from_in_reply_to,
        numbers_in_ids=tuple(numbers),
        subject_numbers=subject_ticket_numbers(parsed.subject),
    )


def subject_ticket_numbers(subject: str) -> tuple[str, ...]:
    """Ticket numbers in the subject's `[TKT-…]` form anywhere, or `Re: TKT-…` at the start."""
    numbers: list[str] = []
    for match in _BRACKETED.finditer(subject):
        _append(numbers, match.group(1))
    position = len(subject) - len(subject.lstrip())
    replied = False
    while (prefix := _REPLY_PREFIX.match(subject, position)) is not None:
        position, replied = prefix.end(), True
    if replied:
        leading = _LEADING_NUMBER.match(subject, position)
        if leading is not None:
            _append(numbers, leading.group(1))
    return tuple(numbers)


def _append(numbers: list[str], number: str) -> None:
    number = number.upper()
    if number not in numbers:
        numbers.append(number)
