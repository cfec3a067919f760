"""Choosing the body among the MIME leaves, and accounting for every other leaf.

Every leaf of the message (not of attached messages) ends in exactly one place: a body part
(`BodyPart`, its text in `plain` or `html`), an attachment, or a `SkippedPart` with a reason.
Accounting (checked by the property test): the multiset of (content type, decoded size) of
`body_parts` + MIME-origin attachments + skipped parts equals that of the leaves.

Rules (RFC 2046 section 5.1):
- multipart/alternative: the last text/plain and the last HTML-bearing alternative are the
  body; other text renderings are skipped (`alternative_not_chosen`); anything else (a
  calendar invitation, say) is an attachment. `body_text` is the plain one unless it is a
  stub of the HTML one (see `parse._bodies`: "view this mail in your browser").
- multipart/related: the root (the `start` parameter, else the first part) is read in the
  enclosing context; the other parts are attachments, inline when they have a Content-ID.
- any other multipart (mixed, report, signed, digest, unknown): every inline text/plain or
  text/html leaf without a file name is body, in order (Apple Mail interleaves text and
  images; list managers append footers as parts); other leaves are attachments.
- message/rfc822 leaves are one `.eml` attachment with their decoded bytes unchanged.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from hubdesk.mail.attachments import (
    PartMeta,
    is_tnef,
    make_attachment,
    message_filename,
    part_meta,
    tnef_attachments,
)
from hubdesk.mail.charsets import decode_text
from hubdesk.mail.filenames import disambiguate
from hubdesk.mail.limits import MailLimits
from hubdesk.mail.prescan import Entity
from hubdesk.mail.transfer import decode_transfer
from hubdesk.mail.types import Attachment, BodyPart, SkippedPart
from hubdesk.mail.uuencode import extract_uuencoded

BODY_TYPES = frozenset({"text/plain", "text/html"})
# Renderings of the same text that a multipart/alternative may offer besides plain and HTML.
_ALTERNATIVE_TEXT = frozenset(
    {
        "text/plain",
        "text/html",
        "text/enriched",
        "text/richtext",
        "text/watch-html",
        "text/x-watch-html",
        "text/x-amp-html",
    }
)
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_NEWLINES = re.compile(r"\r\n?")
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")

# How a leaf may be used, decided by its container.
_BODY = "body"
_ATTACH = "attach"
_REJECTED_ALTERNATIVE = "rejected_alternative"


@dataclass(slots=True)
class Content:
    """What the walk found: body texts, every attachment, skipped leaves and defects."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    body_parts: list[BodyPart] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    skipped: list[SkippedPart] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    tnef_text: str | None = None
    tnef_html: str | None = None
    plain_is_alternative: bool = False
    """The plain text came from a multipart/alternative that also offered HTML."""


def clean_text(text: str) -> tuple[str, bool]:
    """Newlines normalised to LF; NUL and lone surrogates replaced (databases reject them).

    Returns the text and whether anything had to be replaced.
    """
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    if _BAD_CHARS.search(text):
        return _BAD_CHARS.sub("\ufffd", text), True
    return text, False


class _Walker:
    def __init__(self, raw: bytes, limits: MailLimits, charsets: tuple[str, ...]) -> None:
        self.raw = raw
        self.limits = limits
        self.charsets = charsets
        self.out = Content()

    def payload(self, ent: Entity) -> bytes:
        data, defects = decode_transfer(self.raw[ent.body_start : ent.end], ent.cte())
        self.out.defects.extend(defects)
        return data

    def container(self, ent: Entity, mode: str) -> None:
        if ent.content_type == "multipart/alternative":
            self.alternative(ent, mode)
        elif ent.content_type == "multipart/related":
            root = _related_root(ent)
            for index, child in enumerate(ent.children):
                self.dispatch(child, mode if index == root else _ATTACH, related=index != root)
        else:
            for child in ent.children:
                self.dispatch(child, mode)

    def alternative(self, ent: Entity, mode: str) -> None:
        plain = rich = -1
        for index, child in enumerate(ent.children):
            if child.is_multipart or child.content_type == "text/html":
                rich = index
            elif child.content_type == "text/plain":
                plain = index
        if mode == _BODY and plain >= 0 and rich >= 0:
            self.out.plain_is_alternative = True
        for index, child in enumerate(ent.children):
            chosen = mode == _BODY and index in (plain, rich)
            self.dispatch(child, _BODY if chosen else _REJECTED_ALTERNATIVE)

    def dispatch(self, ent: Entity, mode: str, *, related: bool = False) -> None:
        if ent.is_multipart:
            self.container(ent, mode)
        else:
            self.leaf(ent, mode, related=related)

    def leaf(self, ent: Entity, mode: str, *, related: bool) -> None:
        meta = part_meta(ent.header, ent.ctype, self.charsets)
        self.out.defects.extend(meta.defects)
        ctype = ent.content_type
        if ctype in _MESSAGE_TYPES:
            inner = ent.children[0].header if ent.children else None
            self.attach(self.payload(ent), ent, meta, fallback=message_filename(inner))
            return
        data = self.payload(ent)
        is_root = ent.depth == 0
        plain_part = not meta.is_attachment and (is_root or not meta.filename)
        if ctype in BODY_TYPES and mode == _BODY and plain_part:
            self.body(data, ent)
            return
        if mode == _REJECTED_ALTERNATIVE and ctype in _ALTERNATIVE_TEXT and plain_part:
            self.out.skipped.append(SkippedPart(ctype, "alternative_not_chosen", len(data)))
            return
        if is_tnef(ctype, meta):
            self.tnef(data, ent, meta)
            return
        if not data and not meta.filename and not meta.content_id:
            self.out.skipped.append(SkippedPart(ctype, "empty", 0))
            return
        inline = meta.content_id is not None and not meta.is_attachment
        self.attach(data, ent, meta, inline=inline or (related and meta.content_id is not None))

    def attach(
        self,
        data: bytes,
        ent: Entity,
        meta: PartMeta,
        *,
        inline: bool = False,
        fallback: str | None = None,
    ) -> None:
        index = len(self.out.attachments) + 1
        self.out.attachments.append(
            make_attachment(
                data, ent.content_type, meta, index, inline=inline, fallback_name=fallback
            )
        )

    def body(self, data: bytes, ent: Entity) -> None:
        charset = ent.ctype.get("charset")
        self.out.body_parts.append(BodyPart(ent.content_type, len(data), charset))
        text_bytes = data
        if ent.content_type == "text/plain":
            text_bytes, files, defects = extract_uuencoded(data)
            self.out.defects.extend(defects)
            for item in files:
                index = len(self.out.attachments) + 1
                meta = PartMeta("attachment", item.name, None, ())
                self.out.attachments.append(
                    make_attachment(
                        item.payload,
                        "application/octet-stream",
                        meta,
                        index,
                        inline=False,
                        origin="uuencode",
                    )
                )
        decoded = decode_text(text_bytes, charset)
        self.out.defects.extend(decoded.defects)
        text, replaced = clean_text(decoded.text)
        if replaced:
            self.out.defects.append("invalid_characters_in_body")
        (self.out.plain if ent.content_type == "text/plain" else self.out.html).append(text)

    def tnef(self, data: bytes, ent: Entity, meta: PartMeta) -> None:
        first = len(self.out.attachments) + 1
        files, text, html, problem = tnef_attachments(data, meta, first, self.limits.max_tnef_bytes)
        if problem is not None:
            self.out.defects.append(problem)
            self.attach(data, ent, meta)
            return
        self.out.skipped.append(SkippedPart(ent.content_type, "tnef_unpacked", len(data)))
        self.out.attachments.extend(files)
        self.out.tnef_text = self.out.tnef_text or text
        self.out.tnef_html = self.out.tnef_html or html


def _related_root(ent: Entity) -> int:
    """RFC 2387 3.2: the `start` parameter names the root by Content-ID, else the first part."""
    start = ent.ctype.get("start")
    if start:
        wanted = start.strip().strip("<>").strip()
        for index, child in enumerate(ent.children):
            cid = (child.header.get("content-id") or "").strip().strip("<>").strip()
            if cid and cid == wanted:
                return index
    return 0


def collect_content(
    raw: bytes, root: Entity, limits: MailLimits, charsets: tuple[str, ...] = ()
) -> Content:
    """Walk the entity tree (not into attached messages) and place every leaf.

    `charsets`: the message's header charset and declared charsets, tried (strictly) for raw
    8-bit file names.
    """
    walker = _Walker(raw, limits, charsets)
    walker.dispatch(root, _BODY)
    out = walker.out
    out.defects = list(dict.fromkeys(out.defects))
    # Two files called "scan.pdf" stay two files, shown as "scan.pdf" and "scan (2).pdf".
    names = disambiguate([a.filename for a in out.attachments])
    out.attachments = [
        a if a.filename == name else dataclasses.replace(a, filename=name)
        for a, name in zip(out.attachments, names, strict=True)
    ]
    return out
