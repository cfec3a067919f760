"""Tags and priority from an email, exactly as the spec says (pure).

Tags: `#hashtags` in the visible text (quoted replies are not the sender's words), at least
3 characters, lowercased, at most 10; Danish letters are word letters. A hashtag starts
with a letter, so order numbers (`#12345`) and URL fragments (`/page#top`) are not tags.

Priority: keywords matched as whole words, case-insensitive, in the subject and the tags
(scope `subject`, the spec's) or in the visible body text (scope `body`); the highest level
found wins, else the default. The words are the admin's (`hubdesk.priority.service`, loaded
once per keyword version, compiled by `hubdesk.priority.keywords`, which also holds
`SPEC_KEYWORDS`, the spec's Danish and English defaults).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from hubdesk.intake.types import Extraction
from hubdesk.priority.keywords import SPEC, SPEC_KEYWORDS, Keywords
from hubdesk.tickets.tags import MAX_TAGS

__all__ = ["SPEC", "SPEC_KEYWORDS", "Keywords", "detect_priority", "extract", "extract_tags"]

MIN_TAG_LENGTH: Final = 3
_HASHTAG: Final = re.compile(r"(?:^|(?<=[\s(\[{\"']))#([^\W\d_][\w-]*)", re.UNICODE)


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
