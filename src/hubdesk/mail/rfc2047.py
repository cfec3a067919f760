"""RFC 2047 encoded-words in header text, decoded in one linear pass.

Deliberately more lenient than the RFC in the ways real mailers need and mail clients read
(encoded-words glued to other text, inside quoted strings, longer than 75 characters, spaces
inside the encoded text - `=?us-ascii?Q?ABC / 123?=` - or a leading space in it, multi-byte
characters split across adjacent words: the bytes of adjacent same-charset words are joined
before decoding) and stricter where it matters: a bad word is kept literally and
recorded, and the text never grows beyond what its bytes decode to.
"""

from __future__ import annotations

import binascii
import re

from hubdesk.mail.charsets import decode_text
from hubdesk.mail.transfer import decode_base64

# charset, optional RFC 2231 language (after "*"), encoding, encoded text (spaces allowed, as
# clients read it). Each part stops at the next "?", so a failed attempt costs at most the
# distance to the next "?" (linear).
_WORD = re.compile(r"=\?([^?\s*]{1,64})(?:\*[^?\s]{0,32})?\?([bBqQ])\?([^?\r\n]*)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")
_Q_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _decode_q(text: str) -> bytes:
    # RFC 2047 4.2: "_" is a space; "=XX" a byte. Non-ASCII here is already invalid, encode
    # it as UTF-8 rather than fail.
    data = text.replace("_", " ").encode("utf-8", "surrogateescape")
    return _Q_ESCAPE.sub(lambda m: binascii.unhexlify(m.group(1)), data)


def decode_encoded_words(value: str) -> tuple[str, tuple[str, ...]]:
    """Decode every encoded-word in `value`; returns the text and defects."""
    if "=?" not in value:
        return value, ()
    out: list[str] = []
    defects: list[str] = []
    pos = 0
    pending: list[bytes] = []
    pending_charset = ""
    had_word = False

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            decoded = decode_text(b"".join(pending), pending_charset)
            out.append(decoded.text)
            defects.extend(decoded.defects)
            pending.clear()
        pending_charset = ""

    for match in _WORD.finditer(value):
        gap = value[pos : match.start()]
        # RFC 2047 6.2: whitespace between adjacent encoded-words is not displayed.
        adjacent = had_word and _BETWEEN_WORDS.fullmatch(gap) is not None
        charset, encoding, text = match.group(1), match.group(2).lower(), match.group(3)
        if encoding == "b":
            data, b64_defects = decode_base64(text.encode("ascii", "replace"))
            if b64_defects:
                defects.append("invalid_encoded_word")
        else:
            data = _decode_q(text)
        if not (adjacent and charset.lower() == pending_charset):
            flush()
            if not adjacent:
                out.append(gap)
        pending.append(data)
        pending_charset = charset.lower()
        pos = match.end()
        had_word = True
    flush()
    out.append(value[pos:])
    return "".join(out), tuple(dict.fromkeys(defects))
