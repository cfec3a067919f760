"""Content-Transfer-Encoding decoding (RFC 2045 section 6), lenient and linear.

Broken encodings are decoded as far as they go and recorded as defects (`invalid_base64`,
`invalid_qp`, `unknown_cte:...`); nothing raises. Also decodes uuencoded data, which arrives
both as a transfer encoding (`x-uuencode`) and as `begin 644 name` blocks inside text bodies.
"""

from __future__ import annotations

import binascii
import re

_B64_WHITESPACE = b" \t\r\n\x0b\x0c"
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_B64_NOT_ALPHABET = re.compile(rb"[^A-Za-z0-9+/=]")
_PADDING_RUN = re.compile(rb"=+")
# RFC 2045 6.7: "=" must start "=XX" (hex) or a soft line break (optionally after whitespace).
_QP_BAD_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r\n|\n|\r|\Z))")

_CTE_ALIASES = {
    "": "7bit",
    "7bit": "7bit",
    "7-bit": "7bit",
    "8bit": "8bit",
    "8-bit": "8bit",
    "binary": "binary",
    "base64": "base64",
    "base-64": "base64",
    "quoted-printable": "quoted-printable",
    "quoted_printable": "quoted-printable",
    "qp": "quoted-printable",
    "x-uuencode": "uuencode",
    "uuencode": "uuencode",
    "x-uue": "uuencode",
    "uue": "uuencode",
}


def canonical_cte(value: str) -> str | None:
    """The canonical name of a Content-Transfer-Encoding value, or None when unknown."""
    return _CTE_ALIASES.get(value.strip().strip("\"'").lower())


def decode_base64(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """Decode base64 ignoring junk characters; concatenated padded blobs decode one by one."""
    defects: list[str] = []
    compact = data.translate(None, _B64_WHITESPACE)
    # Whatever is left once the alphabet is deleted is junk: a C loop, 5x faster than a
    # regex search over a clean part (a 50 MB attachment: 0.05 s against 0.28 s).
    if compact.translate(None, _B64_ALPHABET):
        defects.append("invalid_base64")
        compact = _B64_NOT_ALPHABET.sub(b"", compact)
    body = compact.rstrip(b"=")
    if b"=" in body:
        # Padding in the middle: some encoders pad every line. binascii would stop at the first
        # pad and silently drop the rest.
        defects.append("base64_inner_padding")
        segments = [s for s in _PADDING_RUN.split(body) if s]
    else:
        segments = [body]
    out: list[bytes] = []
    for segment in segments:
        remainder = len(segment) % 4
        if remainder == 1:
            # A lone trailing character carries 6 bits: not even one byte can be recovered.
            if "invalid_base64" not in defects:
                defects.append("invalid_base64")
            segment = segment[:-1]
        elif remainder:
            segment += b"=" * (4 - remainder)
        out.append(binascii.a2b_base64(segment))
    return b"".join(out), tuple(defects)


def decode_quoted_printable(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """Decode quoted-printable; a malformed `=` escape is kept literally and recorded."""
    defects = ("invalid_qp",) if _QP_BAD_ESCAPE.search(data) else ()
    return binascii.a2b_qp(data), defects


def decode_uu_lines(lines: list[bytes]) -> tuple[bytes, bool]:
    """Decode the body lines of a uuencoded block (between `begin` and `end`).

    Returns the bytes and whether any line was malformed. Lines are decoded by their declared
    length (the first character), which repairs the common broken-encoder trailing garbage.
    """
    out: list[bytes] = []
    broken = False
    for raw_line in lines:
        line = raw_line.rstrip(b"\r\n")
        if not line:
            continue
        count = (line[0] - 32) & 63
        if count == 0:
            continue
        needed = 1 + ((count + 2) // 3) * 4
        chunk = line[:needed].ljust(needed, b" ")
        try:
            out.append(binascii.a2b_uu(chunk)[:count])
            continue
        except binascii.Error:
            pass
        # Encoders that leave non-zero padding bits in the last group: decode only the
        # characters the byte count needs (the stdlib's workaround for broken uuencoders).
        try:
            out.append(binascii.a2b_uu(line[: (count * 4 + 5) // 3])[:count])
        except binascii.Error:
            broken = True
    return b"".join(out), broken


_UU_BEGIN = re.compile(rb"^begin[ \t]+[0-7]{3,4}[ \t]+[^\r\n]*$", re.MULTILINE)


def decode_uuencode(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """Decode a part whose transfer encoding is x-uuencode (the data between begin/end)."""
    begin = _UU_BEGIN.search(data)
    lines = data[begin.end() :].splitlines() if begin else data.splitlines()
    body: list[bytes] = []
    for line in lines:
        if line.strip() == b"end":
            break
        body.append(line)
    decoded, broken = decode_uu_lines(body)
    return decoded, ("invalid_uuencode",) if broken or not begin else ()


def decode_transfer(data: bytes, cte: str) -> tuple[bytes, tuple[str, ...]]:
    """Decode `data` from the transfer encoding named by the header value `cte`."""
    canonical = canonical_cte(cte)
    if canonical in ("7bit", "8bit", "binary"):
        return data, ()
    if canonical == "base64":
        return decode_base64(data)
    if canonical == "quoted-printable":
        return decode_quoted_printable(data)
    if canonical == "uuencode":
        return decode_uuencode(data)
    shown = re.sub(r"[^a-z0-9._-]", "", cte.lower())[:40]
    return data, (f"unknown_cte:{shown}",)
