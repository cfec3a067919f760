"""Message-ID, In-Reply-To and References (RFC 5322 3.6.4), normalised to `<left@right>`.

An id in angle brackets without an `@` (`<test-reference-id>`, `<3DlzeX5SbSIeEh0>`) or with
an empty right side is still an id: mailers write them, and threading only compares strings.
Such an id must hold no whitespace (`<not an id>` is text); a Message-ID of that shape is
recorded as `message_id_no_domain`. Bare ids without brackets still need an `@`.

Threading compares these strings for equality, so normalisation must be deterministic: the
angle brackets are kept, whitespace and comments removed, case preserved (id-left is
case-sensitive). Garbage between ids is tolerated (Outlook writes dates and quoted phrases
into In-Reply-To). A message without a usable Message-ID gets a synthetic one derived from
its content key, so two deliveries of the same message get the same id.
"""

from __future__ import annotations

import re

SYNTHETIC_DOMAIN = "synthetic.hubdesk.invalid"
MAX_ID_CHARS = 250

_ANGLE_ID = re.compile(r"<([^<>]*)>")
_BARE_SEPARATORS = re.compile(r"[\s,;\"()]+")
_SPACE = re.compile(r"\s+")
_VALID = re.compile(r"[^@\s<>\x00-\x1f\x7f]+@[^@\s<>\x00-\x1f\x7f]+")
# Without a usable domain: one token, no whitespace, not starting with "@".
_PLAIN = re.compile(r"[^@\s<>\x00-\x1f\x7f][^\s<>\x00-\x1f\x7f]*")


def _without_comments(value: str) -> str:
    """Drop (comments) outside angle brackets; linear, nesting counted."""
    if "(" not in value:
        return value
    out: list[str] = []
    depth = 0
    in_angle = False
    for ch in value:
        if depth:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            continue
        if ch == "<":
            in_angle = True
        elif ch == ">":
            in_angle = False
        elif ch == "(" and not in_angle:
            depth = 1
            continue
        out.append(ch)
    return "".join(out)


def _normal(content: str, *, plain: bool = False) -> str | None:
    """`<id>` for a usable id; `plain` also accepts an id without a domain (from brackets)."""
    text = _SPACE.sub("", content)
    if len(text) > MAX_ID_CHARS:
        return None
    if _VALID.fullmatch(text):
        return f"<{text}>"
    if plain and text == content.strip() and _PLAIN.fullmatch(text):
        return f"<{text}>"
    return None


def parse_id_list(value: str) -> tuple[str, ...]:
    """All usable ids in a References/In-Reply-To value, in order, without duplicates."""
    text = _without_comments(value)
    found = [_normal(m.group(1), plain=True) for m in _ANGLE_ID.finditer(text)]
    if not any(found) and "<" not in text:
        # Some mailers drop the angle brackets altogether.
        found = [_normal(word) for word in _BARE_SEPARATORS.split(text) if "@" in word]
    return tuple(dict.fromkeys(i for i in found if i))


def parse_message_id(value: str) -> tuple[str | None, tuple[str, ...]]:
    """The normalised Message-ID of a header value, or None; plus defects."""
    ids = parse_id_list(value)
    if not ids:
        return None, ("message_id_unusable",)
    defects: tuple[str, ...] = ()
    if "<" not in value:
        defects = ("message_id_no_angle_brackets",)
    elif _VALID.fullmatch(ids[0][1:-1]) is None:
        defects = ("message_id_no_domain",)
    return ids[0], defects


def synthetic_message_id(content_key: str) -> str:
    """The deterministic id of a message without a usable Message-ID."""
    return f"<{content_key[:32]}@{SYNTHETIC_DOMAIN}>"
