"""Turning non-body MIME leaves into `Attachment` values.

Decides the display name (RFC 2183 filename, RFC 2045 name, RFC 2231 encoded, or generated),
whether the part is shown inline (a `cid:` target), and expands the two container formats we
unpack: TNEF (`winmail.dat`) into its files, and nothing else - an attached message
(message/rfc822) stays one `.eml` file with its bytes unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubdesk.mail.charsets import decode_text
from hubdesk.mail.filenames import content_type_for, display_name, safe_filename
from hubdesk.mail.headers import HeaderBlock, display_value
from hubdesk.mail.params import HeaderParams, parse_params
from hubdesk.mail.tnef import unpack_tnef
from hubdesk.mail.types import Attachment

_CID_JUNK = re.compile(r"[\s<>\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\udc80-\udcff]")
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})


@dataclass(frozen=True, slots=True)
class PartMeta:
    """What a leaf's headers say about it as a file."""

    disposition: str
    """`inline`, `attachment` or "" when absent."""
    filename: str | None
    content_id: str | None
    defects: tuple[str, ...]

    @property
    def is_attachment(self) -> bool:
        return self.disposition == "attachment"


def _decoded_param(params: HeaderParams, name: str, charsets: tuple[str, ...] = ()) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if _SURROGATE.search(value):
        # Raw 8-bit bytes in the parameter (RFC 6532 style or a legacy charset): UTF-8, else
        # the first charset the part or the message declares that decodes them, else the
        # usual fallback.
        data = value.encode("utf-8", "surrogateescape")
        value = decode_text(data, None).text
        if not value_is_utf8(data):
            for label in charsets:
                decoded = decode_text(data, label)
                if not any(
                    d.startswith(("charset_fallback", "charset_replacement"))
                    for d in decoded.defects
                ):
                    value = decoded.text
                    break
    return value


def value_is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def part_meta(header: HeaderBlock, ctype: HeaderParams, charsets: tuple[str, ...] = ()) -> PartMeta:
    """Disposition, file name and Content-ID of one entity. `charsets`: the message's
    declared charsets, for raw 8-bit file names (after the part's own charset)."""
    raw_disposition = header.get("content-disposition")
    disposition = parse_params(raw_disposition) if raw_disposition else HeaderParams("")
    own = ctype.get("charset")
    hints = (own, *charsets) if own else charsets
    filename = _decoded_param(disposition, "filename", hints) or _decoded_param(
        ctype, "name", hints
    )
    raw_cid = header.get("content-id")
    content_id = None
    if raw_cid:
        cid, _ = display_value(raw_cid)
        content_id = _CID_JUNK.sub("", cid)[:250] or None
    value = disposition.value if disposition.value in ("inline", "attachment") else ""
    defects = disposition.defects + ctype.defects
    return PartMeta(value, filename.strip() if filename else None, content_id, defects)


def message_filename(inner: HeaderBlock | None) -> str | None:
    """A file name for an attached message without one: its subject plus `.eml`."""
    if inner is None:
        return None
    subject = inner.get("subject")
    if not subject:
        return None
    text, _ = display_value(subject)
    text = " ".join(text.split())[:80]
    return f"{text}.eml" if text else None


def make_attachment(
    payload: bytes,
    content_type: str,
    meta: PartMeta,
    index: int,
    *,
    inline: bool,
    fallback_name: str | None = None,
    origin: str = "mime",
) -> Attachment:
    """An attachment with a safe name; the sender's name is kept for display only."""
    original = meta.filename or fallback_name
    return Attachment(
        filename=safe_filename(original, content_type, index),
        content_type=content_type,
        payload=payload,
        inline=inline,
        content_id=meta.content_id,
        original_filename=display_name(original) if original else None,
        origin=origin,
    )


def is_tnef(content_type: str, meta: PartMeta) -> bool:
    """application/ms-tnef, or a generic type named winmail.dat (Outlook's habit)."""
    if content_type in _TNEF_TYPES:
        return True
    return (meta.filename or "").strip().lower() == "winmail.dat"


def tnef_attachments(
    payload: bytes, meta: PartMeta, first_index: int, max_bytes: int
) -> tuple[list[Attachment], str | None, str | None, str | None]:
    """The files inside a TNEF part: (attachments, body text, body html, problem)."""
    result = unpack_tnef(payload, max_bytes)
    if result.problem is not None:
        return [], None, None, result.problem
    files = []
    for offset, item in enumerate(result.files):
        file_meta = PartMeta("attachment", item.name or None, None, ())
        files.append(
            make_attachment(
                item.payload,
                content_type_for(item.name),
                file_meta,
                first_index + offset,
                inline=False,
                origin="tnef",
            )
        )
    return files, result.body_text, result.body_html, None
