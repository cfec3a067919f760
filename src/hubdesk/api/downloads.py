"""Responses that hand bytes to the browser as downloads, never as pages.

Every file response carries `Content-Disposition: attachment` with an RFC 6266 `filename*`,
`X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`, so an HTML or SVG
attachment cannot run on our origin even if a browser is talked into rendering it. Only
plainly passive types keep their declared type; anything else (HTML, SVG, JavaScript, CSS
...) is served as `application/octet-stream`, so no attachment URL can be used as a
`<script src>` or a style sheet of this origin (RELIABILITY T16).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from fastapi import Response

from hubdesk.text import single_line

INLINE_IMAGE_TYPES: Final = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PASSIVE_TYPES: Final = INLINE_IMAGE_TYPES | frozenset(
    {"application/pdf", "text/plain", "text/csv", "application/zip", "message/rfc822"}
)


def download_type(content_type: str) -> str:
    """The declared type when it is passive, else `application/octet-stream`."""
    return content_type if content_type in PASSIVE_TYPES else "application/octet-stream"


def content_disposition(filename: str) -> str:
    safe = single_line(filename, 255) or "download"
    ascii_name = safe.encode("ascii", "replace").decode("ascii").replace('"', "_").replace("?", "_")
    ascii_name = ascii_name.replace("\\", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"


def attachment_response(data: bytes, *, filename: str, content_type: str) -> Response:
    return Response(
        content=data,
        media_type=download_type(content_type),
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )
