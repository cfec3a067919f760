"""Splitting one entity's header block into fields, bounded by the limits (RFC 5322 2.2).

Linear by construction: the block is scanned once, line by line, and the scan stops as soon as
a budget is exceeded. Malformed framing is tolerated and recorded (`bare_cr`,
`invalid_header_name`, `missing_header_body_separator`, `first_line_is_continuation`,
`header_8bit`, `broken_header_continuation`): a line that is neither a field nor a
continuation ends the header block, as in the stdlib feed parser - unless one of the next
`_LOOKAHEAD_LINES` lines is again a `Name: value` field, in which case the stray lines are a
continuation that a broken mailer wrapped without leading whitespace (a long tracker header)
and the header block goes on. The lookahead is bounded, and a stray run is looked at once.
Values are unfolded (the CRLF before a continuation is removed, RFC
5322 2.2.3) and kept as `utf-8` with surrogate escapes so the raw bytes can be recovered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from hubdesk.mail.charsets import decode_text
from hubdesk.mail.limits import LimitExceeded, MailLimits
from hubdesk.mail.rfc2047 import decode_encoded_words

# One line and its terminator. CR CR LF (an artefact of double conversion) counts as one line
# break; a lone CR is a line break and a defect. Every alternative has a fixed length, so a run
# of CRs cannot make the scan quadratic.
_LINE = re.compile(rb"([^\r\n]*)(\r\n|\n|\r\r\n|\r|\Z)")
# RFC 5322 3.6.8 field-name: printable US-ASCII except ":"; obsolete syntax allows WSP before
# the colon (RFC 5322 4.5).
_FIELD = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
# A line that clearly starts a header field again: a token name, a colon, then space or end.
_FIELD_AGAIN = re.compile(rb"[A-Za-z][A-Za-z0-9-]{0,75}[ \t]*:(?:[ \t]|$)")
_LOOKAHEAD_LINES = 8
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_SURROGATE = re.compile("[\udc80-\udcff]")


class HeaderField(NamedTuple):
    """One header field: lowercased name and the unfolded raw value (utf-8, surrogateescape).

    A NamedTuple rather than a frozen dataclass: a message has dozens of these and tuple
    construction is several times cheaper."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class HeaderBlock:
    """The fields of one entity, where its body starts, and framing defects."""

    fields: tuple[HeaderField, ...]
    body_start: int
    defects: tuple[str, ...]
    _index: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[str]] = {}
        for name, value in self.fields:
            index.setdefault(name, []).append(value)
        object.__setattr__(self, "_index", index)

    def get(self, name: str) -> str | None:
        """The first raw value of field `name` (lowercase), or None."""
        values = self._index.get(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        """Every raw value of field `name` (lowercase), in order (a new list)."""
        return list(self._index.get(name, ()))


def _finish_field(
    name: bytes, parts: list[bytes], fields: list[HeaderField], defects: list[str]
) -> None:
    value = b"".join(parts).strip(b" \t")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        # RFC 6532 allows raw UTF-8; anything else is an 8-bit header we decode later with a
        # fallback. Keep the bytes recoverable.
        text = value.decode("utf-8", "surrogateescape")
        defects.append("header_8bit")
    fields.append(HeaderField(name.decode("ascii").lower(), text))


def _fast_split(data: bytes, start: int, end: int, limits: MailLimits) -> HeaderBlock | None:
    """The common case at C speed: find the empty line with `bytes.find`, split lines with
    `split`, and accept the block only if every line is a field or a continuation with LF or
    CRLF endings and the budgets hold. None: let the line scanner handle (and record) it."""
    if data.startswith(b"\n", start, end) or data.startswith(b"\r\n", start, end):
        return HeaderBlock((), start + (1 if data[start] == 0x0A else 2), ())
    window = min(end, start + limits.max_header_block_bytes)
    lf = data.find(b"\n\n", start, window)
    crlf = data.find(b"\n\r\n", start, window)
    if lf < 0 and crlf < 0:
        return None
    blank = min(p for p in (lf, crlf) if p >= 0)
    body_start = blank + (2 if blank == lf else 3)
    block = data[start:blank]
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
        if b"\r" in block:
            return None  # a bare CR: the scanner records it
    defects: tuple[str, ...] = ()
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("utf-8", "surrogateescape")
        defects = ("header_8bit",)
    if text[:1] in (" ", "\t"):
        return None  # a continuation with no field: the scanner records it
    # Unfold (RFC 5322 2.2.3: remove the line break before WSP, keep the WSP), then every
    # line is one whole field.
    text = text.replace("\n ", " ").replace("\n\t", "\t")
    field_limit = limits.max_header_field_bytes
    quarter = field_limit // 4
    fields: list[HeaderField] = []
    for line in text.split("\n"):
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not name or _FIELD_NAME.fullmatch(name) is None:
            return None
        if len(line) > quarter and len(line.encode("utf-8", "surrogateescape")) > field_limit:
            raise LimitExceeded("header_size", f"field {name[:40]!r} exceeds {field_limit} bytes")
        fields.append(HeaderField(name.lower(), value.strip(" \t")))
    if len(fields) > limits.max_header_fields:
        raise LimitExceeded("header_count", f"more than {limits.max_header_fields} header fields")
    return HeaderBlock(tuple(fields), body_start, defects)


def _bad_name_field(line: bytes) -> bool:
    """A `name: value` line whose name holds bytes a field name may not (NUL, 8-bit)."""
    colon = line.find(b":")
    return colon > 0 and b" " not in line[:colon].strip(b" \t")


def _field_follows(data: bytes, pos: int, end: int) -> int | None:
    """Where a header field starts again within the next `_LOOKAHEAD_LINES` lines after a
    stray line (which ends at `pos`), or None (an empty line or the end comes first)."""
    for _ in range(_LOOKAHEAD_LINES):
        if pos >= end:
            return None
        m = _LINE.match(data, pos, end)
        if m is None or not m.group(1):
            return None
        if _FIELD_AGAIN.match(m.group(1)):
            return pos
        pos = m.end()
    return None


def split_header_block(
    data: bytes, start: int, end: int, limits: MailLimits, *, allow_mbox_from: bool = False
) -> HeaderBlock:
    """Split the header block of the entity `data[start:end]`.

    Raises `LimitExceeded` (caught by the parser) when a header budget is exceeded.
    """
    fast_start = start
    if allow_mbox_from and data.startswith(b"From ", start, end):
        newline = data.find(b"\n", start, min(end, start + limits.max_header_field_bytes))
        fast_start = newline + 1 if newline >= 0 else start
    fast = _fast_split(data, fast_start, end, limits)
    if fast is not None:
        return fast
    fields: list[HeaderField] = []
    defects: list[str] = []
    name: bytes | None = None
    parts: list[bytes] = []
    field_bytes = 0
    pos = start
    block_limit = limits.max_header_block_bytes
    field_limit = limits.max_header_field_bytes
    first = True
    stray_until = -1  # stray lines before this offset continue the current field
    while pos < end:
        m = _LINE.match(data, pos, end)
        if m is None:  # pragma: no cover - the pattern matches at every position
            break
        line, terminator = m.group(1), m.group(2)
        line_start, pos = pos, m.end()
        if pos - start > block_limit:
            raise LimitExceeded("headers_total", f"header block exceeds {block_limit} bytes")
        if terminator in (b"\r", b"\r\r\n"):
            defects.append("bare_cr")
        if first and allow_mbox_from and line.startswith(b"From "):
            first = False
            continue  # mbox "From " separator line (RFC 4155), not a header
        if not line:
            # RFC 5322 2.1: an empty line separates the header from the body.
            if name is not None:
                _finish_field(name, parts, fields, defects)
            return HeaderBlock(tuple(fields), pos, tuple(dict.fromkeys(defects)))
        if line[0] in b" \t":
            if name is None:
                if first or not fields:
                    defects.append("first_line_is_continuation")
                first = False
                continue
            field_bytes += len(line)
            if field_bytes > field_limit:
                raise LimitExceeded(
                    "header_size", f"field {name[:40]!r} exceeds {field_limit} bytes"
                )
            parts.append(line)
            first = False
            continue
        first = False
        if name is not None and _FIELD.match(line) is None and not _bad_name_field(line):
            if line_start >= stray_until:
                follows = _field_follows(data, pos, end)
                if follows is not None:
                    stray_until = follows
            if line_start < stray_until:
                # A continuation line that lost its leading whitespace (see the module doc).
                defects.append("broken_header_continuation")
                field_bytes += len(line) + 1
                if field_bytes > field_limit:
                    raise LimitExceeded(
                        "header_size", f"field {name[:40]!r} exceeds {field_limit} bytes"
                    )
                parts.append(b" " + line)
                continue
        if name is not None:
            _finish_field(name, parts, fields, defects)
            name = None
            parts = []
        if len(line) > field_limit:
            raise LimitExceeded("header_size", f"a header line exceeds {field_limit} bytes")
        fm = _FIELD.match(line)
        if fm is None:
            if _bad_name_field(line):
                # A field whose name holds NUL, control or 8-bit bytes: not a field, but not
                # the start of the body either (the fields after it still count).
                defects.append("invalid_header_name")
                continue
            # Neither field nor continuation: the body starts here without the empty line.
            defects.append("missing_header_body_separator")
            return HeaderBlock(tuple(fields), line_start, tuple(dict.fromkeys(defects)))
        if len(fields) + 1 > limits.max_header_fields:
            raise LimitExceeded(
                "header_count", f"more than {limits.max_header_fields} header fields"
            )
        name = fm.group(1)
        parts = [line[fm.end() :]]
        field_bytes = len(line)
    if name is not None:
        _finish_field(name, parts, fields, defects)
    return HeaderBlock(tuple(fields), end, tuple(dict.fromkeys(defects)))


def display_value(raw: str, charset: str | None = None) -> tuple[str, tuple[str, ...]]:
    """A header value for display: 8-bit bytes decoded, encoded-words decoded, controls gone.

    Raw 8-bit bytes are read as `charset` (the message's header charset, see
    `charsets.guess_header_charset`) when given, else as UTF-8 with the usual fallback.

    C0 controls (except tab) and DEL are replaced by spaces; runs of whitespace are kept as
    they are (callers that want collapsing do it).
    """
    if raw.isascii() and "=?" not in raw:
        # The common case: nothing to decode (tab is the only control kept).
        return (raw if raw.isprintable() else _CONTROL.sub(" ", raw)), ()
    defects: tuple[str, ...] = ()
    if _SURROGATE.search(raw):
        decoded = decode_text(raw.encode("utf-8", "surrogateescape"), charset)
        raw, defects = decoded.text, decoded.defects
    text, word_defects = decode_encoded_words(raw)
    text = _CONTROL.sub(" ", text)
    return text, defects + word_defects
