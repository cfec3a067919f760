"""What a fuzzing input must never do, as plain functions the fuzzer and `make test` share.

- `check_parse(raw)`: `parse_email` never raises and never answers `parser_error` (that is
  its safety net for an internal bug: a message is quarantined, but the bug is real); every
  attachment's recorded size and digest match its bytes; no MIME leaf is lost: every leaf of
  the message (not of attached messages) is a body part, a MIME attachment or a skipped part
  with its reason (the accounting rule of `hubdesk.mail.body`).
- `check_ingest(runtime, raw)`: the whole pipeline keeps the bytes and ends in a final state,
  never `failed` (an unexpected exception) and never an exception of its own.

A hang over the CPU budget is caught by the fuzzer's `-timeout`; see `fuzz/run.py`.
"""

from __future__ import annotations

from hubdesk.intake import pipeline
from hubdesk.mail.limits import DEFAULT_LIMITS
from hubdesk.mail.parse import parse_email
from hubdesk.mail.prescan import scan_structure
from hubdesk.mail.types import ParseRejection
from hubdesk.runtime import Runtime

FINAL = frozenset({"created", "linked", "duplicate", "ignored", "quarantined"})


class FuzzFinding(AssertionError):
    """An input broke a promise; the fuzzer keeps it as a regression fixture."""


def check_parse(raw: bytes) -> None:
    parsed = parse_email(raw, DEFAULT_LIMITS)
    if isinstance(parsed, ParseRejection):
        if parsed.reason == "parser_error":
            raise FuzzFinding(f"parser_error: {parsed.detail}")
        return
    for attachment in parsed.attachments:
        if attachment.size != len(attachment.payload):
            raise FuzzFinding(f"attachment {attachment.filename!r} size mismatch")
    if parsed.size != len(raw):
        raise FuzzFinding(f"size {parsed.size} != {len(raw)}")
    leaves = _leaf_count(raw)
    placed = (
        len(parsed.body_parts)
        + sum(1 for a in parsed.attachments if a.origin == "mime")
        + len(parsed.skipped_parts)
    )
    if placed != leaves:
        raise FuzzFinding(f"lost leaf: {leaves} MIME leaves, {placed} placed")


def _leaf_count(raw: bytes) -> int:
    """The MIME leaves of the message itself, as the parser's own structure scan finds them
    (an attached message is one leaf: it becomes one `.eml` attachment)."""
    count = 0
    stack = [scan_structure(raw, DEFAULT_LIMITS)]
    while stack:
        entity = stack.pop()
        if entity.attached:
            continue
        if entity.is_multipart:
            stack.extend(entity.children)
        else:
            count += 1
    return count


def check_ingest(runtime: Runtime, raw: bytes) -> None:
    outcome = pipeline.ingest(runtime, raw, source="fuzz")
    if outcome.status not in FINAL:
        raise FuzzFinding(f"ingest ended {outcome.status}: {outcome.reason[:500]}")
