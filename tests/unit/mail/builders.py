"""Small builders for hand-written test messages (raw bytes, nothing from any corpus)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence

Headers = Sequence[tuple[str, str]]

DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("From", "Alice Example <alice@customer-a.example>"),
    ("To", "support@hubdesk.example"),
    ("Subject", "Printer on floor 2"),
    ("Date", "Mon, 15 Dec 2025 10:00:00 +0100"),
    ("Message-ID", "<m1@customer-a.example>"),
)


def header_block(headers: Headers, eol: bytes = b"\n") -> bytes:
    return b"".join(f"{name}: {value}".encode() + eol for name, value in headers)


def message(
    body: bytes | str = b"Hello\n",
    headers: Headers = DEFAULT_HEADERS,
    *,
    extra: Headers = (),
    eol: bytes = b"\n",
) -> bytes:
    """A complete message: the header fields, an empty line, the body."""
    data = body.encode() if isinstance(body, str) else body
    return header_block([*headers, *extra], eol) + eol + data


def part(
    content_type: str,
    payload: bytes,
    *,
    cte: str | None = None,
    headers: Headers = (),
) -> bytes:
    """One MIME entity (header block + encoded body) to put inside a multipart."""
    fields = [("Content-Type", content_type), *headers]
    if cte is not None:
        fields.append(("Content-Transfer-Encoding", cte))
    return header_block(fields) + b"\n" + encode(payload, cte)


def encode(payload: bytes, cte: str | None) -> bytes:
    if cte == "base64":
        return base64.encodebytes(payload)
    if cte == "quoted-printable":
        return binascii.b2a_qp(payload)
    return payload


def multipart(
    subtype: str, parts: Iterable[bytes], boundary: str, *, params: str = ""
) -> tuple[str, bytes]:
    """(Content-Type value, body) of a multipart entity made of `parts`."""
    chunks = []
    for item in parts:
        chunks.append(f"--{boundary}\n".encode() + item + b"\n")
    chunks.append(f"--{boundary}--\n".encode())
    content_type = f'multipart/{subtype}; boundary="{boundary}"{params}'
    return content_type, b"This is a multi-part message in MIME format.\n\n" + b"".join(chunks)


def multipart_message(
    subtype: str,
    parts: Iterable[bytes],
    boundary: str = "b0undary",
    headers: Headers = DEFAULT_HEADERS,
    *,
    params: str = "",
) -> bytes:
    content_type, body = multipart(subtype, parts, boundary, params=params)
    return message(body, headers, extra=(("MIME-Version", "1.0"), ("Content-Type", content_type)))
