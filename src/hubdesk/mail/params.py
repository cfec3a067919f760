"""Content-Type / Content-Disposition values and their parameters (RFC 2045, RFC 2231).

Our own single-pass parser: the stdlib's `email.message._parseparam` rescans the remaining
value for every ";" and is quadratic on a long parameter list (RELIABILITY T03,
`Content-Type` with `a=b;` x 20,000). RFC 2231 continuations (`name*0*=`), charsets and
languages (`utf-8''%E2%82%AC`) and RFC 2047 words inside quoted file names (a common
violation) are decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from hubdesk.mail.charsets import decode_text
from hubdesk.mail.rfc2047 import decode_encoded_words

_MAX_CONTINUATIONS = 256
_TOKEN_END = re.compile(r"[;\s]")
_SECTION = re.compile(r"(?P<name>[^*]+)(?:\*(?P<index>\d{1,4}))?(?P<ext>\*)?")


@dataclass(frozen=True, slots=True)
class HeaderParams:
    """A MIME field value (`text/plain`, `attachment`) lowercased, and its parameters."""

    value: str
    params: dict[str, str] = field(default_factory=dict)
    defects: tuple[str, ...] = ()

    def get(self, name: str) -> str | None:
        return self.params.get(name)


def _strip_comments(text: str) -> str:
    """Remove RFC 5322 comments outside quoted strings (bounded nesting, linear)."""
    if "(" not in text:
        return text
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            if ch == '"':
                quoted = False
            out.append(ch)
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            if ch == '"':
                quoted = True
            out.append(ch)
    return "".join(out)


def _split_params(text: str) -> list[tuple[str, str, bool]]:
    """Split `; name=value` pairs once, left to right: (name, value, was_quoted)."""
    pairs: list[tuple[str, str, bool]] = []
    pos, end = 0, len(text)
    while pos < end:
        semi = text.find(";", pos)
        if semi < 0:
            break
        pos = semi + 1
        next_semi = text.find(";", pos)
        eq = text.find("=", pos, end if next_semi < 0 else next_semi)
        if eq < 0:
            continue
        name = text[pos:eq].strip().lower()
        pos = eq + 1
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos < end and text[pos] == '"':
            chars: list[str] = []
            pos += 1
            while pos < end:
                ch = text[pos]
                if ch == "\\" and pos + 1 < end:
                    chars.append(text[pos + 1])
                    pos += 2
                    continue
                if ch == '"':
                    pos += 1
                    break
                chars.append(ch)
                pos += 1
            value, quoted = "".join(chars), True
        else:
            # Unquoted values may hold spaces in the wild (`name=My File.pdf`): take up to ";".
            stop = text.find(";", pos)
            stop = end if stop < 0 else stop
            value, quoted = text[pos:stop].strip(), False
            pos = stop
        if name and " " not in name:
            pairs.append((name, value, quoted))
    return pairs


def _decode_extended(value: str) -> tuple[str, bytes]:
    """RFC 2231 extended value `charset'lang'%XX...` -> (charset, percent-decoded bytes)."""
    parts = value.split("'", 2)
    charset, encoded = (parts[0], parts[2]) if len(parts) == 3 else ("", value)
    # Raw 8-bit bytes in the header arrive as surrogate escapes: keep them as the bytes they
    # were (unquote_to_bytes would encode the text as UTF-8 and fail on a surrogate).
    return charset, unquote_to_bytes(encoded.encode("utf-8", "surrogateescape"))


def parse_params(raw: str) -> HeaderParams:
    """Parse `value; a=b; c*=utf-8''x` into the lowercased value and decoded parameters."""
    text = _strip_comments(raw)
    semi = text.find(";")
    main = (text if semi < 0 else text[:semi]).strip().lower()
    rest = "" if semi < 0 else text[semi:]
    simple: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    defects: list[str] = []
    for name, value, quoted in _split_params(rest):
        m = _SECTION.fullmatch(name)
        if m is None or (m.group("index") is None and m.group("ext") is None):
            simple.setdefault(name, value if quoted else value.strip("\"'"))
            continue
        base = m.group("name")
        index = int(m.group("index") or 0)
        if index < _MAX_CONTINUATIONS:
            sections.setdefault(base, {}).setdefault(index, (value, m.group("ext") is not None))
    params: dict[str, str] = {}
    for base, parts in sections.items():
        charset = ""
        chunks: list[bytes] = []
        first = min(parts)
        for index in sorted(parts):
            value, extended = parts[index]
            if extended and index == first:
                charset, data = _decode_extended(value)
                chunks.append(data)
            elif extended:  # a later section: raw 8-bit bytes kept as they were, as above
                chunks.append(unquote_to_bytes(value.encode("utf-8", "surrogateescape")))
            else:
                chunks.append(value.encode("utf-8", "surrogateescape"))
        decoded = decode_text(b"".join(chunks), charset or "utf-8")
        defects.extend(decoded.defects)
        params[base] = decoded.text
    for name, value in simple.items():
        if name not in params:
            text_value, word_defects = decode_encoded_words(value)
            defects.extend(word_defects)
            params[name] = text_value
    return HeaderParams(main, params, tuple(dict.fromkeys(defects)))
