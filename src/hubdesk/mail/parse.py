"""`parse_email`: raw bytes in, `ParsedEmail` or `ParseRejection` out. Pure; never raises.

How it stays bounded (RELIABILITY section A):
1. size check on the raw bytes (`message_size`);
2. `prescan.scan_structure`: one pass over the bytes that finds every entity's header block
   and body range and enforces the header, part-count and depth budgets, before anything is
   decoded (`header_size`, `headers_total`, `header_count`, `mime_parts`, `mime_depth`);
3. header fields are parsed with our own linear parsers (`envelope`), bodies decoded once
   (`body`), HTML converted and sanitised on bounded input (`html_text`, `sanitize`), the
   reply stripper reads a bounded prefix (`reply`).
Nothing here uses the stdlib `email` package's parser or header registry.
"""

from __future__ import annotations

import hashlib
import re

from hubdesk.mail.authres import parse_authentication_results
from hubdesk.mail.autoreply import classify_automation
from hubdesk.mail.body import Content, collect_content
from hubdesk.mail.bounce import detect_bounce, looks_like_bounce
from hubdesk.mail.charsets import decode_text
from hubdesk.mail.envelope import Envelope, read_envelope
from hubdesk.mail.headers import HeaderBlock
from hubdesk.mail.html_text import convert_html
from hubdesk.mail.limits import DEFAULT_LIMITS, LimitExceeded, MailLimits
from hubdesk.mail.message_ids import synthetic_message_id
from hubdesk.mail.prescan import Entity, scan_structure
from hubdesk.mail.reply import visible_from_converted, visible_text
from hubdesk.mail.sanitize import sanitize_html
from hubdesk.mail.transfer import decode_transfer
from hubdesk.mail.types import ParsedEmail, ParseRejection

_CONTENT_KEY_FIELDS = ("from", "to", "subject", "date")
_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_WORD = re.compile(r"\w+")
# A plain alternative is a stub of the HTML one when the HTML says at least this many times
# as many words, and at least _STUB_MIN_EXTRA more ("View this message in your browser").
# Only a short plain part can be a stub (and only then is the HTML converted to compare).
_STUB_RATIO = 3
_STUB_MIN_EXTRA = 30
_STUB_MAX_WORDS = 150


def _words(text: str, stop: int | None = None) -> int:
    count = 0
    for _ in _WORD.finditer(text):
        count += 1
        if stop is not None and count > stop:
            break
    return count


def parse_email(
    raw: bytes,
    limits: MailLimits = DEFAULT_LIMITS,
    *,
    trusted_authserv_id: str | None = None,
) -> ParsedEmail | ParseRejection:
    """Parse one message. Over a budget -> `ParseRejection` with a stable reason code.

    An unexpected internal error is also returned, as `ParseRejection("parser_error")`, so a
    poison message is quarantined instead of crashing the worker.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        # `bytes(12345)` would silently make 12,345 zero bytes: refuse anything else.
        return ParseRejection("parser_error", f"not bytes: {type(raw).__name__}", "")
    data = bytes(raw)
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > limits.max_message_bytes:
        detail = f"{len(data)} bytes > {limits.max_message_bytes}"
        return ParseRejection("message_size", detail, digest)
    try:
        return _parse(data, digest, limits, trusted_authserv_id)
    except LimitExceeded as exc:
        return ParseRejection(exc.reason, exc.detail, digest)
    except RecursionError:
        return ParseRejection("parser_error", "RecursionError", digest)
    except MemoryError:
        return ParseRejection("memory", "MemoryError while parsing", digest)
    except Exception as exc:  # the boundary: a bug must quarantine, not crash the worker
        detail = f"{type(exc).__name__}: {exc}"[:500]
        return ParseRejection("parser_error", detail, digest)


def content_key(raw: bytes, header: HeaderBlock, body_start: int) -> str:
    """sha256 over From, To, Subject, Date (whitespace-normalised) and the body bytes.

    Transport headers (Received, Delivered-To, Return-Path, X-*) are left out, and line
    endings normalised, so one message delivered twice (by IMAP as CRLF, from a Maildir file
    as LF) has one key; the same Message-ID with another body or subject has another.
    """
    digest = hashlib.sha256()
    for name in _CONTENT_KEY_FIELDS:
        value = " ".join(" ".join(header.get_all(name)).split())
        digest.update(f"{name}:{value}\n".encode("utf-8", "surrogateescape"))
    body = raw[body_start:].replace(b"\r\n", b"\n").rstrip()
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def _walk(root: Entity) -> list[Entity]:
    """All entities of the message itself (not inside attached messages), in order."""
    out: list[Entity] = []
    stack = [root]
    while stack:
        ent = stack.pop()
        if ent.attached:
            continue
        out.append(ent)
        stack.extend(reversed(ent.children))
    return out


def _decoded(raw: bytes, ent: Entity) -> str:
    data, _ = decode_transfer(raw[ent.body_start : ent.end], ent.cte())
    return decode_text(data, ent.ctype.get("charset")).text


def _bodies(
    content: Content, limits: MailLimits, defects: list[str]
) -> tuple[str, str, str | None]:
    """(body_text, body_visible, body_html) from the collected body parts."""
    html_source = "\n".join(content.html) if content.html else content.tnef_html
    plain = "\n".join(content.plain) if content.plain else content.tnef_text
    html_for_text = html_source
    if html_source is not None and len(html_source) > limits.max_html_chars:
        defects.append("html_truncated")
        html_for_text = html_source[: limits.max_html_chars]
    converted = None
    if plain is not None and html_for_text is not None and content.plain_is_alternative:
        plain_words = _words(plain, _STUB_MAX_WORDS)
        if plain_words <= _STUB_MAX_WORDS:
            # The alternatives differ in substance ("view this mail in your browser"):
            # the richer one is the body text.
            converted = convert_html(html_for_text)
            html_words = _words(converted.text)
            if html_words >= max(_STUB_RATIO * plain_words, plain_words + _STUB_MIN_EXTRA):
                defects.append("plain_alternative_stub")
                plain = None
    if plain is not None:
        text = plain
        visible = visible_text(plain, limits.max_visible_scan_chars)
    elif html_for_text is not None:
        converted = converted or convert_html(html_for_text)
        text = converted.text
        visible = visible_from_converted(converted, limits.max_visible_scan_chars)
    else:
        text = visible = ""
    body_html = None
    if html_source is not None:
        body_html = sanitize_html(html_source[: limits.max_html_chars * 2], limits.max_html_chars)
    return text, visible, body_html


def _parse(
    raw: bytes, digest: str, limits: MailLimits, trusted_authserv_id: str | None
) -> ParsedEmail:
    root = scan_structure(raw, limits)
    header = root.header
    entities = _walk(root)
    declared = tuple(dict.fromkeys(c for c in (e.ctype.get("charset") for e in entities) if c))
    envelope: Envelope = read_envelope(header, declared)
    defects: list[str] = []
    for ent in entities:
        defects.extend(ent.header.defects)
        defects.extend(ent.defects)
    defects.extend(envelope.defects)

    hints = (envelope.header_charset, *declared) if envelope.header_charset else declared
    content = collect_content(raw, root, limits, hints)
    defects.extend(content.defects)
    body_text, body_visible, body_html = _bodies(content, limits, defects)

    key = content_key(raw, header, root.body_start)
    message_id = envelope.message_id or synthetic_message_id(key)

    automation = classify_automation(header, envelope.subject)
    facts = dict(automation.facts)
    report_type = None
    if root.content_type == "multipart/report":
        report_type = (root.ctype.get("report-type") or "").strip().lower() or None
    gate = looks_like_bounce(header, envelope.from_, report_type, envelope.subject)
    delivery_status = _delivery_status(raw, root, entities, gate is not None)
    returned = _returned_headers(raw, entities)
    bounce = detect_bounce(
        header, envelope.from_, envelope.subject, report_type, delivery_status, body_text, returned
    )
    if bounce.bounce and bounce.reason:
        facts["bounce"] = bounce.reason

    return ParsedEmail(
        raw_sha256=digest,
        size=len(raw),
        message_id=message_id,
        message_id_synthetic=envelope.message_id is None,
        content_key=key,
        in_reply_to=envelope.in_reply_to,
        references=envelope.references,
        subject=envelope.subject,
        subject_normalized=envelope.subject_normalized,
        from_=envelope.from_,
        from_problem=envelope.from_problem,
        sender=envelope.sender,
        reply_to=envelope.reply_to,
        to=envelope.to,
        cc=envelope.cc,
        date=envelope.date,
        body_text=body_text,
        body_visible=body_visible,
        body_html=body_html,
        attachments=tuple(content.attachments),
        skipped_parts=tuple(content.skipped),
        auto_reply=automation.auto_reply,
        bounce=bounce.bounce,
        bounce_recipients=bounce.recipients,
        bounce_original_message_id=bounce.original_message_id,
        bulk=automation.bulk,
        authentication_results=parse_authentication_results(
            header.get_all("authentication-results"), trusted_authserv_id
        ),
        headers=envelope.headers,
        defects=tuple(dict.fromkeys(defects)),
        facts=facts,
        body_parts=tuple(content.body_parts),
        bounce_kind=bounce.kind,
        sender_source=envelope.sender_source,
        from_repair=envelope.from_repair,
    )


def _delivery_status(
    raw: bytes, root: Entity, entities: list[Entity], looks_like_bounce: bool
) -> str | None:
    """The decoded message/delivery-status part, if any. A notice that looks like a bounce
    may carry its DSN inside an attached message (a relayed or wrapped report)."""
    for ent in entities:
        if ent.content_type in _DSN_TYPES:
            return _decoded(raw, ent)
    if not looks_like_bounce:
        return None
    stack = [root]
    while stack:
        ent = stack.pop()
        if ent.content_type in _DSN_TYPES:
            return _decoded(raw, ent)
        stack.extend(reversed(ent.children))
    return None


def _returned_headers(raw: bytes, entities: list[Entity]) -> str | None:
    """The header text of the returned message in a bounce (text/rfc822-headers or the
    header block of an attached message/rfc822)."""
    for ent in entities:
        if ent.content_type == "text/rfc822-headers":
            return _decoded(raw, ent)
        if ent.content_type in ("message/rfc822", "message/global") and ent.children:
            inner = ent.children[0].header
            return "\n".join(f"Message-ID: {v}" for v in inner.get_all("message-id"))
    return None
