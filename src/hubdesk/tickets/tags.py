"""Tag normalisation (pure): lowercase words of letters, digits, `-` and `_`, at most 10."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice
from typing import Final

from hubdesk.api.limits import (
    MAX_TAG_CHARS,
    MAX_TAGS_PER_TICKET,
    TAG_PATTERN,
    WORD_CHAR_OR_HYPHEN,
)
from hubdesk.errors import ValidationFailed

MAX_TAGS: Final = MAX_TAGS_PER_TICKET
MAX_TAG_LENGTH: Final = MAX_TAG_CHARS
# Raw items looked at, duplicates and '#' spellings included: anything longer is refused
# before a single item is normalised, so the cost of a call is bounded whatever is sent.
MAX_TAG_ITEMS: Final = 100
_DECLARED: Final = re.compile(TAG_PATTERN)
_WORD_CHAR: Final = re.compile(WORD_CHAR_OR_HYPHEN)


def normalize_tag(raw: str) -> str:
    """`#Billing ` -> `billing`; raises `ValidationFailed` for an unusable tag.

    Exactly what `TAG_PATTERN` (the OpenAPI document's format) matches is accepted. The word
    is lowercased letter by letter; a letter whose lowercase is not one word character (`İ`
    lowercases to `i` and a combining dot) keeps its case, so a valid tag stays valid and
    never grows past its length.
    """
    found = _DECLARED.match(raw)
    if found is None:
        raise ValidationFailed(
            f"tag {raw!r} is not valid: use 1 to {MAX_TAG_LENGTH} letters, digits, '-' or '_'"
        )
    return "".join(_lower_char(char) for char in found.group(1))


def _lower_char(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 and _WORD_CHAR.match(lowered) else char


def normalize_tags(raw: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated tags in their first order; more than 10 is an error.

    The count is checked first: more than `MAX_TAG_ITEMS` raw items, or an 11th distinct
    tag, is refused at once, so a huge list costs no more than a short one.
    """
    items = list(islice(raw, MAX_TAG_ITEMS + 1))
    if len(items) > MAX_TAG_ITEMS:
        raise ValidationFailed(
            f"a ticket has at most {MAX_TAGS} tags; send at most {MAX_TAG_ITEMS} items "
            "(duplicates included)"
        )
    seen: set[str] = set()
    tags: list[str] = []
    for item in items:
        tag = normalize_tag(item)
        if tag in seen:
            continue
        if len(tags) == MAX_TAGS:
            raise ValidationFailed(
                f"a ticket has at most {MAX_TAGS} tags; more than {MAX_TAGS} were given"
            )
        seen.add(tag)
        tags.append(tag)
    return tags
