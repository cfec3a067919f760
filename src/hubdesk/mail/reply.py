"""The visible new text of a reply: quoted messages and signatures removed (heuristics).

Works on plain text (any body, or HTML through `html_text`), line by line, linear. For Danish
and English first, with the common forms of German, Swedish, Norwegian, Dutch, French,
Spanish, Italian, Portuguese, Polish and Finnish clients:

Quotes (`strip_quotes`):
- `>` quoted lines are removed wherever they are, with the attribution line(s) above them
  ("On ... wrote:", "Den ... skrev ...:", "Am ... schrieb ...:", "30.09.2017, 18.30, "X"
  <x@y>:", also wrapped over up to three lines); text between quoted blocks (inline answers,
  bottom posting) is kept;
- everything from the first unquoted original is cut: a strong attribution line not followed
  by `>` lines (Gmail/Apple Mail top posting), an Outlook header block ("From: ... Sent:",
  "Fra: ... Sendt:", "Von: ... Gesendet:"), "-----Original Message-----",
  "-----Oprindelig meddelelse-----", "---------- Forwarded message ---------", "Begin
  forwarded message:", or an underscore rule followed by such a header block - unless no
  text precedes it (a forward with nothing added: its content is the message).
Signatures: see `signature.strip_signature` (re-exported here).
`visible_text` = quotes, then signature. When nothing would remain, the text is returned
whole: a message is never emptied by a guess.
"""

from __future__ import annotations

import re

from hubdesk.mail.html_text import HtmlText, convert_html, html_to_text
from hubdesk.mail.signature import strip_signature

__all__ = [
    "strip_html_quotes",
    "strip_quotes",
    "strip_signature",
    "visible_from_converted",
    "visible_html_text",
    "visible_text",
]

MAX_SCAN_LINE = 400

# Matched against lowercased text (IGNORECASE makes this alternation several times slower).
_VERB = re.compile(
    r"\b(?:wrote|writes|skrev|skriver|schrieb|schreef|a écrit|écrit|escribió|escreveu|"
    r"ha scritto|scrisse|napisał\(a\)|napisała|napisał|pisze|kirjoitti|írta|napsal|"
    r"написал\(а\)|написала|написал|пишет|έγραψε|yazdı)(?![\w(])|写道|寫道|のメッセージ"
)
_VERB_WINDOW = 200
_VERB_ENDINGS = (
    "wrote",
    "writes",
    "skrev",
    "skriver",
    "schrieb",
    "schreef",
    "écrit",
    "escribió",
    "escreveu",
    "scritto",
    "scrisse",
    "napisał",
    "napisała",
    "napisał(a)",
    "pisze",
    "kirjoitti",
    "írta",
    "napsal",
    "написал",
    "написала",
    "написал(а)",
    "пишет",
    "έγραψε",
    "yazdı",
    "写道",
    "寫道",
    "のメッセージ",
)
_DIGIT = re.compile(r"\d")
_OPENER = re.compile(
    r"(?:on|den|d\.|am|op|le|el|il|em|w dniu|dnia|på|from)\b"
    r"|\d|[^\W\d_]{2,5}\.? \d",
    re.IGNORECASE,
)
_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_ANGLE_ADDRESS = re.compile(r"<[^<>\s@]+@[^<>\s]+>")
_SEPARATOR = re.compile(
    r"-{2,}[ \t]*(?:original message|oprindelig (?:meddelelse|besked|e-mail)|"
    r"ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|"
    r"originalmeddelande|ursprungligt meddelande|opprinnelig melding|"
    r"oorspronkelijk bericht|wiadomość oryginalna|alkuperäinen viesti|"
    r"forwarded message|videresendt (?:meddelelse|besked)|weitergeleitete nachricht|"
    r"message transféré|mensaje reenviado|messaggio inoltrato|vidarebefordrat meddelande|"
    r"doorgestuurd bericht)[ \t]*-{2,}"
    r"|(?:begin forwarded message|start på videresendt (?:meddelelse|besked)|"
    r"anfang der weitergeleiteten nachricht|début du message réexpédié|"
    r"början på vidarebefordrat meddelande)[ \t]*:",
    re.IGNORECASE,
)
_RULE = re.compile(r"_{10,}[ \t]*|-{20,}[ \t]*")
_HEADER_FROM = re.compile(
    r"\*{0,2}(?:from|fra|von|de|da|från|van|od|lähettäjä|feladó|от|від|发件人|差出人)"
    r"\*{0,2}[ \t]?:",
    re.IGNORECASE,
)
_HEADER_OTHER = re.compile(
    r"\*{0,2}(?:sent|date|sendt|dato|gesendet|datum|envoyé|enviado|fecha|inviato|data|"
    r"skickat|verzonden|wysłano|wysłane|lähetetty|päivämäärä|to|til|an|à|a|para|till|"
    r"aan|do|kenelle|subject|emne|betreff|objet|asunto|oggetto|ämne|onderwerp|temat|"
    r"aihe|cc|kopi|kopie|отправлено|кому|тема)\*{0,2}[ \t]?:",
    re.IGNORECASE,
)


def _is_quote(line: str) -> bool:
    if line[:1] == ">":
        return True
    return line[:1] in (" ", "\t") and line.lstrip(" \t")[:1] == ">"


def _attribution(text: str, first_line: str) -> int:
    """0 = not an attribution, 1 = weak (needs quoted lines after it), 2 = strong."""
    text = text.strip().strip("-").strip()
    if len(text) < 6 or len(text) > MAX_SCAN_LINE or text.startswith(">"):
        return 0
    ends_with_colon = text.endswith((":", "："))
    # The verb is near the end: only a name and an address follow it.
    tail_start = max(0, len(text) - _VERB_WINDOW)
    verb = (
        _VERB.search(text[tail_start:].lower()) if ends_with_colon or text[-1].isalpha() else None
    )
    if verb is not None:
        after = text[tail_start + verb.end() :].strip()
        if not (ends_with_colon or after in ("", ":")):
            return 0
        evidence = "@" in text or _DIGIT.search(text) is not None
        opener = _OPENER.match(first_line.strip().strip("-").strip()) is not None
        return 2 if evidence and (opener or not after.strip(":")) else 1
    if not ends_with_colon or "@" not in text or _DIGIT.search(text) is None:
        return 0
    return 2 if _ANGLE_ADDRESS.search(text) or _TIME.search(text) else 0


def _attribution_ending_at(lines: list[str], last: int) -> tuple[int, int]:
    """(first line, strength) of an attribution whose last line is `last`, or (-1, 0).

    An attribution spans up to three lines; a wrapped one must start with an opener word or
    a date. The earliest start wins. Gmail may wrap inside the address, leaving ">:" alone on
    the last line.
    """
    for first in range(max(0, last - 2), last + 1):
        window = lines[first : last + 1]
        if any(len(line) > MAX_SCAN_LINE for line in window):
            continue
        if first < last:
            head = window[0].strip().strip("-").strip()
            if _OPENER.match(head) is None:
                continue
            inner = window[1:]
            if any(not line.strip() for line in window):
                continue
            if any(_is_quote(line) and line.strip() not in (">:", "> :") for line in inner):
                continue
            if _is_quote(window[0]):
                continue
        joined = " ".join(line.strip() for line in window)
        strength = _attribution(joined, window[0])
        if strength:
            return first, strength
    return -1, 0


def _ends_attribution(stripped: str) -> bool:
    """Can this line end an attribution (a colon, or a reply verb at the very end)?"""
    tail = stripped.rstrip("- ")
    if tail.endswith((":", "：")):
        return True
    return tail[-14:].lower().endswith(_VERB_ENDINGS)


def _outlook_header(lines: list[str], index: int) -> bool:
    """A From line followed within five lines by another header line (Sent/To/Subject...)."""
    if _HEADER_FROM.match(lines[index].strip()) is None:
        return False
    return any(_HEADER_OTHER.match(line.strip()) for line in lines[index + 1 : index + 6])


def _next_text_line(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _cut_here(lines: list[str], index: int) -> bool:
    stripped = lines[index].strip()
    if _SEPARATOR.match(stripped):
        return True
    if _RULE.fullmatch(stripped):
        following = _next_text_line(lines, index + 1)
        return following < len(lines) and _outlook_header(lines, following)
    return _outlook_header(lines, index)


_HEADER_LEAD = re.compile(
    r"[=_*~-]{3,}|(?:message du|le message|date|sent|dato|sendt)[ \t]?:.*", re.IGNORECASE
)


def _back_off(lines: list[str], index: int) -> int:
    """Move a cut above the rule lines and header leads that introduce a quoted message."""
    while index > 0:
        previous = lines[index - 1].strip()
        if previous and _HEADER_LEAD.fullmatch(previous) is None:
            break
        index -= 1
    return index


def _drop_lazy_continuations(lines: list[str], keep: list[bool]) -> None:
    """Unquoted lines glued between quoted lines (no blank line) belong to the quote: clients
    that wrap long quoted lines without re-adding ">" produce them."""
    index = 0
    while index < len(lines):
        if keep[index] or not lines[index].strip():
            index += 1
            continue
        run = index + 1
        while run < len(lines) and keep[run] and lines[run].strip():
            run += 1
        glued = index + 1 < run < len(lines) and not keep[run] and _is_quote(lines[run])
        if glued:
            for covered in range(index + 1, run):
                keep[covered] = False
        index = run


def strip_quotes(text: str) -> str:
    """The text without quoted messages (see the module docstring); signatures stay.

    A quote marker with no text above it is not a cut: the message starts with a forwarded
    or quoted header, and what follows is its content.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    keep = [True] * len(lines)
    end = len(lines)
    quoted = False
    text_lines = 0  # kept, non-blank lines seen so far (text above the current line)
    for index, line in enumerate(lines):
        if not line:
            continue
        if _is_quote(line):
            keep[index] = False
            quoted = True
            if line.strip() in (">:", "> :"):
                # Gmail wrapped the attribution inside its address: "...<a@b\n>:".
                first, strength = _attribution_ending_at(lines, index)
                for covered in range(first, index) if strength else ():
                    text_lines -= keep[covered] and bool(lines[covered].strip())
                    keep[covered] = False
            continue
        stripped = line.strip()
        if not stripped:
            continue
        if len(line) <= MAX_SCAN_LINE:
            # Cheap filters first: a cut starts with a rule character or has a header-like
            # label ("From:", "Fra :", "Begin forwarded message:") near the start.
            colon = line.find(":")
            if colon < 0:
                colon = line.find("：")
            labelled = 0 <= colon < 40 or stripped[0] in "-_*"
            cut = labelled and _cut_here(lines, index)
            if cut and text_lines:
                end = _back_off(lines, index)
                break
            if cut:
                continue  # a forward/quote header at the top: its content is the message
            last = stripped[-1]
            may_end = last in ":：)-" or last.isalpha()
            first, strength = (
                _attribution_ending_at(lines, index)
                if may_end and _ends_attribution(stripped)
                else (-1, 0)
            )
            if strength:
                following = _next_text_line(lines, index + 1)
                if following < len(lines) and _is_quote(lines[following]):
                    for covered in range(first, index):
                        text_lines -= keep[covered] and bool(lines[covered].strip())
                        keep[covered] = False
                    keep[index] = False
                    continue
                above = text_lines - sum(
                    1 for covered in range(first, index) if lines[covered].strip()
                )
                if strength == 2 and above > 0:
                    end = _back_off(lines, first)
                    break
        text_lines += 1
    if quoted:
        _drop_lazy_continuations(lines, keep)
    kept = [line for line, wanted in zip(lines[:end], keep[:end], strict=True) if wanted]
    return "\n".join(kept).strip()


def visible_text(text: str, max_chars: int = 256 * 1024) -> str:
    """The new text of a plain-text reply: without quotes and signature, never emptied."""
    head = text[:max_chars]
    visible = strip_signature(strip_quotes(head))
    if visible.strip():
        return visible
    signed = strip_signature(head)
    return signed if signed.strip() else head.strip()


def strip_html_quotes(html: str) -> str:
    """The text of an HTML reply above its quote (containers cut, then the plain-text
    quote rules); signatures stay."""
    return strip_quotes(html_to_text(html, stop_at_quote=True))


def visible_from_converted(converted: HtmlText, max_chars: int = 256 * 1024) -> str:
    """The new text of an already converted HTML reply."""
    above = converted.above_quote
    if above is not None and above.strip():
        return visible_text(above, max_chars)
    return visible_text(converted.text, max_chars)


def visible_html_text(html: str, max_chars: int = 256 * 1024) -> str:
    """The new text of an HTML reply (quote containers cut, then the plain-text rules)."""
    return visible_from_converted(convert_html(html), max_chars)
