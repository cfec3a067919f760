"""Tags and priority from an email, exactly as the spec says (pure).

Tags: `#hashtags` in the visible text (quoted replies are not the sender's words), at least
3 characters, lowercased, at most 10; Danish letters are word letters. A hashtag starts
with a letter, so order numbers (`#12345`) and URL fragments (`/page#top`) are not tags.

Priority: the spec's Danish and English keywords, matched as whole words, case-insensitive,
in the subject and the tags; the highest level found wins, else the default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from hubdesk.intake.types import Extraction
from hubdesk.tickets.states import PRIORITY_RANK
from hubdesk.tickets.tags import MAX_TAGS

MIN_TAG_LENGTH: Final = 3
_HASHTAG: Final = re.compile(r"(?:^|(?<=[\s(\[{\"']))#([^\W\d_][\w-]*)", re.UNICODE)

KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "critical": ("kritisk", "critical", "down", "nede", "urgent", "akut"),
    "high": ("høj", "high", "vigtig", "important", "haster"),
    "low": ("lav", "low", "spørgsmål", "question", "info"),
}
_KEYWORD_PATTERNS: Final = {
    level: re.compile(r"(?<!\w)(" + "|".join(words) + r")(?!\w)", re.IGNORECASE | re.UNICODE)
    for level, words in KEYWORDS.items()
}


def extract_tags(visible_text: str) -> tuple[str, ...]:
    tags: list[str] = []
    for match in _HASHTAG.finditer(visible_text):
        tag = match.group(1).lower().rstrip("-")
        if len(tag) >= MIN_TAG_LENGTH and tag not in tags:
            tags.append(tag[:64])
            if len(tags) == MAX_TAGS:
                break
    return tuple(tags)


def detect_priority(subject: str, tags: Iterable[str], default: str) -> tuple[str, str]:
    """(priority, reason): the highest keyword level in subject or tags, else `default`."""
    haystacks = [("subject", subject)] + [("tag", f"#{t}") for t in tags]
    for level in sorted(KEYWORDS, key=lambda lvl: PRIORITY_RANK[lvl], reverse=True):
        for where, text in haystacks:
            found = _KEYWORD_PATTERNS[level].search(text)
            if found:
                return level, f"keyword {found.group(1).lower()!r} in {where}"
    return default, "no priority keyword; default"


def extract(subject: str, visible_text: str, default_priority: str) -> Extraction:
    tags = extract_tags(visible_text)
    priority, reason = detect_priority(subject, tags, default_priority)
    return Extraction(tags=tags, priority=priority, priority_reason=reason)
