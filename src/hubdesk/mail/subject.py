"""The Subject as people read it, and normalised for matching and ticket titles.

`clean_subject`: decoded, C0/C1 controls removed, whitespace collapsed.

`normalize_subject`: without the leading run of reply/forward prefixes in the languages our
users write (Re, Fwd, Fw, SV, VS, AW, WG, Antw, Vs, Odp, TR, RV, RES, ENC, YNT, with counters
`Re[2]:`, `Re(2):`, `Re^2:` and a space before the colon `Re :`) and of well-known
bracketed tags added by gateways (`[EXTERNAL]`, `[EKSTERN]`, `[SPAM]`, `***SPAM***`...).
Any other bracketed tag in that leading run - notably the ticket token `[TKT-20251215-001]`,
which threading reads - is KEPT, moved in front of the remaining text in its original
order: `Re: [EXTERNAL] [TKT-20251215-001] Re: printer` -> `[TKT-20251215-001] printer`.
Only the leading run is touched; a "Re:" inside the text stays.

Both regexes are anchored, bounded or unambiguous, so the work is linear (RELIABILITY T11).
"""

from __future__ import annotations

import re

from hubdesk.mail.headers import display_value

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")
_MAX_PREFIX_RUN = 2_000

_PREFIX_WORDS = (
    "re|aw|sv|vs|antw|antwort|odp|tr|rv|res|ynt|rif"  # replies
    "|fwd|fw|wg|enc|doorst"  # forwards
)
# One item of the leading run: a reply/forward prefix, or a bracketed tag (at most 64 chars,
# no nested brackets), or a ***SPAM*** style marker. Every alternative ends in a fixed
# character, so the engine never needs to backtrack across items.
_ITEM = (
    rf"(?:(?:{_PREFIX_WORDS})[ \t]{{0,3}}(?:\[\d{{1,4}}\]|\(\d{{1,4}}\)|\^\d{{1,4}})?"
    r"[ \t]{0,3}[:：]"
    r"|\[[^\[\]\r\n]{1,64}\]"
    r"|\*{1,3}[ \t]{0,2}(?:spam|suspected spam|possible spam)[ \t]{0,2}\*{1,3})"
)
_LEADING_RUN = re.compile(rf"(?:[ \t]*{_ITEM})+", re.IGNORECASE)
# Bracketed tags inside the leading run (a reply counter such as `[2]` is part of a prefix).
_TAG = re.compile(r"\[(?!\d{1,4}\])[^\[\]\r\n]{1,64}\]")

# Tags that say something about the path the message took, not about its content.
_DROPPED_TAGS = frozenset(
    {
        "external",
        "ext",
        "extern",
        "ekstern",
        "ekstern afsender",
        "ekstern e-mail",
        "ekstern mail",
        "external email",
        "external sender",
        "external mail",
        "externe e-mail",
        "extern e-mail",
        "spam",
        "suspected spam",
        "possible spam",
        "spam?",
        "bulk",
        "caution",
        "warning",
        "phishing",
        "suspicious",
        "ext sender",
        "unverified sender",
        "fwd",
        "fw",
    }
)


def clean_subject(raw: str | None, charset: str | None = None) -> str:
    """The decoded subject for display, one line, no control characters (raw 8-bit bytes
    read as `charset` when given)."""
    if not raw:
        return ""
    text, _ = display_value(raw, charset)
    text = _CONTROLS.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def normalize_subject(subject: str) -> str:
    """The subject without leading reply/forward prefixes and path tags (see module doc)."""
    text = _SPACE.sub(" ", subject).strip()
    # A real prefix run is a few dozen characters; looking at a bounded head keeps this
    # constant-time however long the subject is.
    run = _LEADING_RUN.match(text, 0, _MAX_PREFIX_RUN)
    if run is None:
        return text
    kept: list[str] = []
    if "[" in text[: run.end()]:
        for tag in _TAG.finditer(text, 0, run.end()):
            if tag.group()[1:-1].strip().lower() not in _DROPPED_TAGS:
                kept.append(tag.group())
    rest = text[run.end() :].strip()
    return " ".join([*kept, rest]).strip() if kept else rest
