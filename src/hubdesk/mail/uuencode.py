"""uuencoded files embedded in plain-text bodies (`begin 644 name` ... `end`).

Pre-MIME mailers, and some gateways to this day, put files inline in the text. A block is
taken out of the text only when it is complete (has its `end` line); the text keeps a short
placeholder so readers see that a file was there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubdesk.mail.transfer import decode_uu_lines

_BEGIN = re.compile(
    rb"^begin[ \t]{1,8}[0-7]{3,4}[ \t]{1,8}([^\r\n]{1,255}?)[ \t]*\r?$", re.MULTILINE
)
_END = re.compile(rb"^end[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class UuFile:
    """One decoded uuencoded block."""

    name: str
    payload: bytes


def extract_uuencoded(data: bytes) -> tuple[bytes, tuple[UuFile, ...], tuple[str, ...]]:
    """Remove complete uuencoded blocks from `data`; returns (text bytes, files, defects)."""
    if b"begin " not in data:
        return data, (), ()
    files: list[UuFile] = []
    defects: list[str] = []
    out: list[bytes] = []
    pos = 0
    for begin in _BEGIN.finditer(data):
        if begin.start() < pos:
            continue
        end = _END.search(data, begin.end())
        if end is None:
            break
        lines = data[begin.end() : end.start()].splitlines()
        payload, broken = decode_uu_lines(lines)
        if broken:
            defects.append("invalid_uuencode")
        name = begin.group(1).decode("utf-8", "replace")
        files.append(UuFile(name, payload))
        out.append(data[pos : begin.start()])
        out.append(f"[uuencoded file: {name}]".encode())
        pos = end.end()
    if not files:
        return data, (), ()
    out.append(data[pos:])
    return b"".join(out), tuple(files), tuple(dict.fromkeys(defects))
