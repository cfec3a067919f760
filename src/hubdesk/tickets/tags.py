"""Tag normalisation (pure): lowercase words of letters, digits, `-` and `_`, at most 10."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from hubdesk.errors import ValidationFailed

MAX_TAGS: Final = 10
MAX_TAG_LENGTH: Final = 64
_VALID: Final = re.compile(r"\A[\w-]+\Z", re.UNICODE)


def normalize_tag(raw: str) -> str:
    """`#Billing ` -> `billing`; raises `ValidationFailed` for an unusable tag."""
    tag = raw.strip().lstrip("#").lower()
    if not tag or len(tag) > MAX_TAG_LENGTH or not _VALID.match(tag):
        raise ValidationFailed(
            f"tag {raw!r} is not valid: use 1 to {MAX_TAG_LENGTH} letters, digits, '-' or '_'"
        )
    return tag


def normalize_tags(raw: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated tags in their first order; more than 10 is an error."""
    tags: list[str] = []
    for item in raw:
        tag = normalize_tag(item)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationFailed(f"a ticket has at most {MAX_TAGS} tags; {len(tags)} were given")
    return tags
