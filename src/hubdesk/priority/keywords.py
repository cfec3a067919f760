"""Priority keywords compiled for matching (pure): the spec's Danish and English defaults
and the admin's words, as one whole-word, case-insensitive pattern per level and scope."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from hubdesk.tickets.states import PRIORITY_RANK

SPEC_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "critical": ("kritisk", "critical", "down", "nede", "urgent", "akut"),
    "high": ("høj", "high", "vigtig", "important", "haster"),
    "low": ("lav", "low", "spørgsmål", "question", "info"),
}


def _pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({w.lower() for w in words if w}, key=lambda w: (-len(w), w))
    if not ordered:
        return None
    alternatives = "|".join(re.escape(w) for w in ordered)
    return re.compile(r"(?<!\w)(" + alternatives + r")(?!\w)", re.IGNORECASE | re.UNICODE)


@dataclass(frozen=True, slots=True)
class Keywords:
    """Compiled keywords: per level (highest first), a pattern for the subject and tags and
    one for the body (None where a level has no words in that scope)."""

    levels: tuple[tuple[str, re.Pattern[str] | None, re.Pattern[str] | None], ...]

    @classmethod
    def build(
        cls,
        subject: Mapping[str, Iterable[str]],
        body: Mapping[str, Iterable[str]] | None = None,
    ) -> Keywords:
        body = body or {}
        names = sorted(set(subject) | set(body), key=lambda lvl: -PRIORITY_RANK[lvl])
        return cls(
            tuple(
                (lvl, _pattern(subject.get(lvl, ())), _pattern(body.get(lvl, ()))) for lvl in names
            )
        )


SPEC: Final = Keywords.build(SPEC_KEYWORDS)
