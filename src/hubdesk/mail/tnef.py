"""Unpacking Outlook's TNEF (`winmail.dat`, application/ms-tnef) with the tnefparse library.

tnefparse trusts the counts stored in the file: a 4-byte property count or multi-value count
makes it loop up to four billion times, and it copies the remaining buffer for every object
(quadratic). So before handing bytes to it we walk the same structure ourselves, with the same
control flow but arithmetic instead of loops, and estimate its work. Files whose estimated
work exceeds the budget are not unpacked: the winmail.dat is kept as one file with a defect.
tnefparse is imported only when a TNEF part appears.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_SIGNATURE = 0x223E9F78
_LVL_ATTACHMENT = 2
_ATT_ATTACHMENT = 0x9005
_ATT_MAPI_PROPS = 0x9003
_ATT_RECIP_TABLE = 0x9004
_ATTACH_DATA_OBJ = 0x3701
_IMESSAGE_SIG = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"
_MULTI_VALUE = 0x1000
_GUID_EXISTS = 0x8000
_FIXED_SIZES = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8, 0x0007: 8}
_FIXED_SIZES.update({0x0006: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16})
_VARIABLE_TYPES = frozenset({0x001E, 0x001F, 0x000D, 0x0102, 0x0000})

_MAX_ITERATIONS = 200_000
_MAX_COPIED_BYTES = 200 * 1024 * 1024
_MAX_EMBED_DEPTH = 3


@dataclass(frozen=True, slots=True)
class TnefFile:
    """One file unpacked from a TNEF container."""

    name: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class TnefResult:
    """The files of a TNEF container, its plain/HTML body if any, or why it was not unpacked."""

    files: tuple[TnefFile, ...]
    body_text: str | None
    body_html: str | None
    problem: str | None


class _TooCostly(Exception):
    pass


class _Stop(Exception):
    """tnefparse would raise (or stop reading) here; its work ends."""


def _u32(data: bytes, offset: int) -> int:
    if offset + 4 > len(data):
        raise _Stop
    value: int = struct.unpack_from("<I", data, offset)[0]
    return value


def _u16(data: bytes, offset: int) -> int:
    if offset + 2 > len(data):
        raise _Stop
    value: int = struct.unpack_from("<H", data, offset)[0]
    return value


class _Estimator:
    """Mirrors tnefparse's loops (tnef.TNEF.__init__, mapi.decode_mapi, parse_property)."""

    def __init__(self) -> None:
        self.iterations = 0
        self.copied = 0

    def spend(self, iterations: int = 0, copied: int = 0) -> None:
        self.iterations += iterations
        self.copied += copied
        if self.iterations > _MAX_ITERATIONS or self.copied > _MAX_COPIED_BYTES:
            raise _TooCostly

    def container(self, data: bytes, depth: int) -> None:
        if depth > _MAX_EMBED_DEPTH:
            raise _TooCostly
        if len(data) < 6 or _u32(data, 0) != _SIGNATURE:
            return
        offset = 6
        while offset + 12 < len(data):
            remaining = len(data) - offset
            self.spend(1, remaining)  # TNEFObject(data[offset:]) copies the rest
            length = min(remaining, _u32(data, offset + 5) + 11)
            level, name = data[offset], _u16(data, offset + 1)
            body = data[offset + 9 : offset + length - 2]
            try:
                if (level == _LVL_ATTACHMENT and name == _ATT_ATTACHMENT) or (
                    level != _LVL_ATTACHMENT and name == _ATT_MAPI_PROPS
                ):
                    self.mapi(body, 0, depth)
                elif level != _LVL_ATTACHMENT and name == _ATT_RECIP_TABLE:
                    self.recipients(body, depth)
            except _Stop:
                return  # tnefparse raises here: it stops, so does its work
            offset += length

    def recipients(self, data: bytes, depth: int) -> None:
        rows = _u32(data, 0)
        offset = 4
        for _ in range(rows):
            self.spend(1)
            offset = self.mapi(data, offset, depth)

    def mapi(self, data: bytes, offset: int, depth: int) -> int:
        count = _u32(data, offset)
        offset += 4
        try:
            for index in range(count):
                if offset >= len(data):
                    self.spend(count - index)  # tnefparse `continue`s through the rest
                    break
                offset = self.mapi_property(data, offset, depth)
        except _Stop:
            pass  # decode_mapi catches its own errors and returns what it has
        return offset

    def mapi_property(self, data: bytes, offset: int, depth: int) -> int:
        self.spend(1)
        attr_type, attr_name = _u16(data, offset), _u16(data, offset + 2)
        offset += 4
        if attr_name >= _GUID_EXISTS:
            offset += 16
            kind = _u32(data, offset)
            offset += 4
            if kind == 0:
                offset += 4
            else:
                iid_len = _u32(data, offset)
                offset += 4 + iid_len + (-iid_len % 4)
        multi: int | None = None
        if attr_type & _MULTI_VALUE:
            attr_type ^= _MULTI_VALUE
            multi = _u32(data, offset)
            offset += 4
        values = multi or 1
        if attr_type in _FIXED_SIZES:
            self.spend(values)
            offset += _FIXED_SIZES[attr_type] * values
        elif attr_type in _VARIABLE_TYPES:
            for _ in range(values):
                self.spend(1)
                offset = self.variable(data, offset, attr_name, bool(multi), depth)
        else:
            raise _Stop  # "Unknown MAPI type": decode_mapi stops
        if values % 2 and attr_type in (0x0002, 0x000B):
            offset += 2
        return offset

    def variable(self, data: bytes, offset: int, name: int, multi: bool, depth: int) -> int:
        count = 1
        if not multi:
            count = _u32(data, offset)
            offset += 4
        for _ in range(count):
            self.spend(1)
            length = _u32(data, offset)
            offset += 4
            item = data[offset : offset + length + (-length % 4)]
            if name == _ATTACH_DATA_OBJ and item.startswith(_IMESSAGE_SIG):
                self.container(item[len(_IMESSAGE_SIG) :], depth + 1)
            offset += length + (-length % 4)
        return offset


def _estimate_ok(data: bytes) -> bool:
    try:
        _Estimator().container(data, 0)
    except _TooCostly:
        return False
    except _Stop:
        return True
    return True


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("cp1252", "replace")
    if isinstance(value, str):
        return value
    return None


def _name_of(attachment: object) -> str:
    try:
        name = attachment.long_filename()  # type: ignore[attr-defined]
    except (UnicodeDecodeError, AttributeError, ValueError):
        return ""
    return _text(name) or ""


def unpack_tnef(data: bytes, max_bytes: int) -> TnefResult:
    """The files inside a TNEF container; `problem` says why nothing was unpacked."""
    if len(data) > max_bytes:
        return TnefResult((), None, None, "tnef_too_large")
    if len(data) < 6 or struct.unpack_from("<I", data, 0)[0] != _SIGNATURE:
        return TnefResult((), None, None, "tnef_bad_signature")
    if not _estimate_ok(data):
        return TnefResult((), None, None, "tnef_too_complex")
    try:
        from tnefparse.tnef import TNEF

        tnef = TNEF(data, do_checksum=False)
        files = tuple(TnefFile(_name_of(att), bytes(att.data or b"")) for att in tnef.attachments)
        body_text = _text(tnef.body)
        body_html = _text(tnef.htmlbody)
    except Exception as exc:  # tnefparse raises anything on hostile input
        return TnefResult((), None, None, f"tnef_unreadable:{type(exc).__name__}")
    return TnefResult(files, body_text, body_html, None)
