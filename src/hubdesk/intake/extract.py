"""Tags and priority from an email, exactly as the spec says (pure).

Tags: `#hashtags` in the visible text (quoted replies are not the sender's words), at least
3 characters, lowercased, at most 10; Danish letters are word letters. A hashtag starts
with a letter, so order numbers (`#12345`) and URL fragments (`/page#top`) are not tags.

Priority: keywords matched as whole words, case-insensitive, in the subject and the tags
(scope `subject`, the spec's) or in the visible body text (scope `body`); the highest level
found wins, else the default. The words are the admin's (`hubdesk.priority.service`, loaded
once per keyword version); `SPEC_KEYWORDS` are the spec's Danish and English defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from hubdesk.intake.types import Extraction
from hubdesk.tickets.states import PRIORITY_RANK
from hubdesk.tickets.tags import MAX_TAGS

MIN_TAG_LENGTH: Final = 3
_HASHTAG: Final = re.compile(r"(?:^|(?<=[\s(\[{\"']))#([^\W\d_][\w-]*)", re.UNICODE)

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


def extract_tags(visible_text: str) -> tuple[str, ...]:
    tags: list[str] = []
    for match in _HASHTAG.finditer(visible_text):
        tag = match.group(1).lower().rstrip("-")
        if len(tag) >= MIN_TAG_LENGTH and tag not in tags:
            tags.append(tag[:64])
            if len(tags) == MAX_TAGS:
                break
    return tuple(tags)


def detect_priority(
    subject: str,
    tags: Iterable[str],
    default: str,
    keywords: Keywords = SPEC,
    body: str = "",
) -> tuple[str, str]:
    """(priority, reason): the highest keyword level found, else `default`."""
    haystacks = [("subject", subject)] + [("tag", f"#{t}") for t in tags]
    for level, in_subject, in_body in keywords.levels:
        if in_subject is not None:
            for where, text in haystacks:
                found = in_subject.search(text)
                if found:
                    return level, f"keyword {found.group(1).lower()!r} in {where}"
        if in_body is not None and body:
            found = in_body.search(body)
            if found:
                return level, f"keyword {found.group(1).lower()!r} in body"
    return default, "no priority keyword; default"


def extract(
    subject: str, visible_text: str, default_priority: str, keywords: Keywords = SPEC
) -> Extraction:
    tags = extract_tags(visible_text)
    priority, reason = detect_priority(subject, tags, default_priority, keywords, visible_text)
    return Extraction(tags=tags, priority=priority, priority_reason=reason)
