"""Small pure text rules shared by every layer that stores text from outside."""

from __future__ import annotations

import re
from typing import Final

_C0: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_C0_AND_NEWLINES: Final = re.compile(r"[\x00-\x1f\x7f]+")
_SPACES: Final = re.compile(r"\s+")


def single_line(value: str, max_length: int) -> str:
    """A title-like value: no control characters or line breaks, spaces collapsed, bounded.

    Titles flow into mail headers and CSV cells; a CR or LF here would become header
    injection later, so it never survives.
    """
    cleaned = _SPACES.sub(" ", _C0_AND_NEWLINES.sub(" ", value)).strip()
    return cleaned[:max_length]


def multi_line(value: str) -> str:
    """A body-like value: line breaks kept (CRLF folded to LF), other control chars removed."""
    return _C0.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
