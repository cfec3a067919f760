"""Signatures at the end of a reply: `strip_signature` (heuristics, linear).

- a `-- ` delimiter line (RFC 3676 4.3) followed by at most 20 lines;
- a mobile sign-off line ("Sent from my iPhone", "Sendt fra min iPhone", "Get Outlook for
  iOS", "Von meinem iPhone gesendet") and everything after it;
- a closing line ("Med venlig hilsen", "Mvh", "Best regards", "Thanks,") followed only by a
  few short signature-like lines (name, title, phone) - never a closing word inside a
  sentence, and for weak closings ("Thanks", "Cheers") at most three lines below;
- a mailing-list manager's footer (a rule, then "... mailing list").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_MOBILE = re.compile(
    r"(?:sent|sendt|skickat|gesendet|envoyé|enviado|inviato|verzonden|wysłane|lähetetty)"
    r"(?: from| fra| från| von| de| da| van| z| via| with| using| med| à partir de| desde)"
    r" [^,;!?<\n]{1,80}(?:<[^>\n]{0,300}>)?"
    r"|(?:von meinem|fra min|från min) [^,;!?<\n]{1,60} gesendet"
    r"|(?:get|hent|download|hämta|holen sie sich) outlook (?:for|til|für|för) "
    r"[^,;!?<\n]{1,60}(?:<[^>\n]{0,300}>)?",
    re.IGNORECASE,
)
_SIGNOFF_WORDS = (
    r"med venlig(?:e)? hilsen?|venlig(?:e)? hilsen?|vh|mvh|m\.v\.h\.|kh|kærlig hilsen|"
    r"hilsen|de bedste hilsner|bedste hilsner|med vennlig hilsen|vennlig hilsen|"
    r"med vänlig hälsning|vänliga hälsningar|hälsningar|"
    r"mit freundlichen grüßen|mit freundlichen grüssen|freundliche grüße|viele grüße|"
    r"beste grüße|liebe grüße|gruß|grüße|"
    r"best regards|kind regards|warm regards|warmest regards|regards|best wishes|"
    r"best|cheers|thanks|thank you|many thanks|thanks again|thx|sincerely|"
    r"yours sincerely|yours truly|yours faithfully|cordialement|bien à vous|"
    r"saludos|met vriendelijke groet|vriendelijke groet|pozdrawiam|ystävällisin terveisin|"
    r"tak|på forhånd tak|mange tak"
)
_SIGNOFF = re.compile(
    rf"(?:{_SIGNOFF_WORDS})[ \t]*[,.!]?(?:[ \t]*/.{{0,40}})?[ \t]*", re.IGNORECASE
)
# Lines that can start a signature: delimiters, rules, mobile sign-offs, closing words.
_SIGNATURE_CANDIDATE = re.compile(
    rf"^[ \t]*(?:--|__|sent|sendt|skickat|gesendet|envoy|enviado|inviato|verzonden|wysłane|"
    rf"lähetetty|von meinem|fra min|från min|get outlook|hent outlook|download outlook|"
    rf"hämta outlook|holen sie sich|{_SIGNOFF_WORDS})",
    re.MULTILINE,  # matched against lowercased text: IGNORECASE is much slower here
)
_LIST_RULE = re.compile(r"_{2,}")
_WEAK_SIGNOFFS = frozenset(
    {"best", "cheers", "thanks", "thank you", "thx", "tak", "hilsen", "many thanks"}
)


def _candidate_indices(text: str, pattern: re.Pattern[str]) -> Iterator[int]:
    """Indices of the lines where `pattern` (anchored with ^, MULTILINE) matches, found by
    one C-speed scan; the per-line work then runs only on those lines."""
    line = 0
    pos = 0
    for m in pattern.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        yield line


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out).strip("\n")


def _signature_like(lines: list[str], start: int, stop: int, max_lines: int) -> bool:
    """Whether lines[start:stop] are a short signature block: at most `max_lines` short,
    sentence-free lines. Stops at the first line that disqualifies it."""
    count = 0
    for index in range(start, stop):
        line = lines[index].strip()
        if not line:
            continue
        count += 1
        if count > max_lines or len(line) > 60 or line.endswith(("?", ":")):
            return False
        if len(line.split()) > 8:
            return False
    return True


def _at_most_lines(lines: list[str], start: int, limit: int) -> bool:
    """Whether lines[start:] hold at most `limit` non-blank lines (stops counting early)."""
    count = 0
    for index in range(start, len(lines)):
        if lines[index].strip():
            count += 1
            if count > limit:
                return False
    return True


def strip_signature(text: str) -> str:
    """The text without a trailing signature (see the module docstring)."""
    lines = text.split("\n")
    candidates = list(_candidate_indices(text.lower(), _SIGNATURE_CANDIDATE))
    cut = len(lines)
    for index in candidates:
        line = lines[index]
        stripped = line.strip()
        if len(stripped) > 120:
            continue
        if index > 0 and _MOBILE.fullmatch(stripped):
            cut = index
            break
        following = lines[index + 1].strip().lower() if index + 1 < len(lines) else ""
        if _LIST_RULE.fullmatch(stripped) and following.endswith("mailing list"):
            cut = index  # a mailing-list manager's footer
            break
        delimiter = stripped == "--" and line.rstrip(" ") in ("--", "-- ") and index > 0
        if delimiter and _at_most_lines(lines, index + 1, 20):
            cut = index
            break
    first_text = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    for index in candidates:
        if index >= cut:
            break
        stripped = lines[index].strip()
        if index <= first_text or len(stripped) > 60 or not _SIGNOFF.fullmatch(stripped):
            continue
        word = re.sub(r"[\s,.!]+$", "", stripped.split("/")[0]).lower()
        limit = 3 if word in _WEAK_SIGNOFFS else 6
        if _signature_like(lines, index + 1, cut, limit):
            cut = index
            break
    return _tidy(lines[:cut])
