"""hubdesk's parse of one message compared with the stdlib's `compat32` parser.

`compare(raw)` returns the aspects on which the two disagree, as stable names
(`structure`, `leaves`, `attachments`, `filenames`, `from`, `to`, `cc`, `message_id`,
`references`), with both values for the report. The stdlib only runs on messages that
hubdesk's pre-scan accepts (the same budgets bound both), so the comparison never feeds the
stdlib a budget breaker.

What is compared, and how each side is read:
- structure: the content types of the message's own entities in walk order (an attached
  message, and any message/* part, is one leaf on both sides: compat32 splits the fields of
  a delivery-status or feedback-report into pseudo-parts, which are not MIME entities); the
  stdlib's type is `get_content_type()`, ours the effective type of the pre-scan.
- leaves: the number of non-multipart entities of that walk.
- attachments: every leaf the stdlib would call a file (it has a file name) must be among
  hubdesk's attachments byte for byte (decoded payload). message/* leaves are compared by
  the decoded bytes of the part, which is what hubdesk keeps.
- filenames: the decoded file names of those leaves must be among hubdesk's original names.
- from / to / cc: lowercased addr-specs (`email.utils.getaddresses`), in order, duplicates
  and empty ones dropped.
- message_id / references: the ids in angle brackets (hubdesk's synthetic id counts as none).

This module is also run by hand against main's code to measure the figures in
docs/corpus.md (it uses only fields that ParsedEmail has always had).
"""

from __future__ import annotations

import email
import email.header
import email.utils
import re
from collections import Counter
from collections.abc import Iterator
from email.message import Message
from email.policy import compat32
from typing import Any

from hubdesk.mail.limits import DEFAULT_LIMITS
from hubdesk.mail.message_ids import SYNTHETIC_DOMAIN
from hubdesk.mail.parse import parse_email
from hubdesk.mail.prescan import Entity, scan_structure
from hubdesk.mail.types import ParsedEmail

ASPECTS = (
    "structure",
    "leaves",
    "attachments",
    "filenames",
    "from",
    "to",
    "cc",
    "message_id",
    "references",
)
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})
_ANGLE = re.compile(r"<([^<>\s]+)>")
_SPACE = re.compile(r"\s+")
_SQUASH = re.compile(rb"\s+")


def _stdlib_walk(msg: Message) -> Iterator[Message]:
    """The message's own entities (an attached message is one leaf), in order."""
    stack = [msg]
    while stack:
        part = stack.pop()
        yield part
        if part.get_content_maintype() == "message":
            continue  # compat32 splits DSN / feedback-report fields into pseudo-parts
        payload = part.get_payload()
        if part.get_content_maintype() == "multipart" and isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def _our_walk(root: Entity) -> Iterator[Entity]:
    stack = [root]
    while stack:
        ent = stack.pop()
        yield ent
        if ent.content_type in _MESSAGE_TYPES:
            continue
        stack.extend(reversed(ent.children))


def _decoded_header(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:
        return value


def _stdlib_filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    if not name:
        return None
    return _SPACE.sub(" ", _decoded_header(name)).strip() or None


def _stdlib_payload(part: Message) -> bytes:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        if isinstance(inner, list):
            # rfc822: one message; delivery-status: one pseudo-message per field block.
            return b"\n".join(m.as_bytes(policy=compat32) for m in inner if isinstance(m, Message))
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _emails(values: list[Any]) -> tuple[str, ...]:
    try:
        pairs = email.utils.getaddresses([str(v) for v in values])
    except Exception:
        return ()
    out = [addr.strip().lower() for _, addr in pairs if addr.strip()]
    return tuple(dict.fromkeys(out))


def _ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(dict.fromkeys(f"<{m}>" for m in _ANGLE.findall(str(value))))


def compare(raw: bytes) -> dict[str, tuple[object, object]] | None:
    """The aspects on which hubdesk and compat32 differ: {aspect: (hubdesk, stdlib)}.

    None when hubdesk rejects the message (a budget breaker is not fed to the stdlib).
    """
    parsed = parse_email(raw)
    if not isinstance(parsed, ParsedEmail):
        return None
    root = scan_structure(raw, DEFAULT_LIMITS)
    msg = email.message_from_bytes(raw, policy=compat32)
    diff: dict[str, tuple[object, object]] = {}

    ours = [e.content_type for e in _our_walk(root)]
    theirs = [p.get_content_type() for p in _stdlib_walk(msg)]
    if ours != theirs:
        diff["structure"] = (ours, theirs)
    our_leaves = sum(1 for e in _our_walk(root) if not e.is_multipart)
    std_leaves = sum(1 for p in _stdlib_walk(msg) if p.get_content_maintype() != "multipart")
    if our_leaves != std_leaves:
        diff["leaves"] = (our_leaves, std_leaves)

    files = [
        p
        for p in _stdlib_walk(msg)
        if p.get_content_maintype() != "multipart" and _stdlib_filename(p)
    ]
    # A message/* part: compat32 can only give it back re-serialised (its own line endings
    # and folding), so those parts are compared with whitespace removed.
    our_payloads = Counter(a.payload for a in parsed.attachments)
    our_payloads.update(
        _SQUASH.sub(b"", a.payload)
        for a in parsed.attachments
        if a.content_type.startswith("message/")
    )
    wanted = Counter(
        _SQUASH.sub(b"", _stdlib_payload(p))
        if p.get_content_maintype() == "message"
        else _stdlib_payload(p)
        for p in files
    )
    missing = wanted - our_payloads
    if missing:
        diff["attachments"] = (len(parsed.attachments), sorted(len(b) for b in missing))
    our_names = Counter(
        _SPACE.sub(" ", a.original_filename or "").strip() for a in parsed.attachments
    )
    missing_names = Counter(_stdlib_filename(p) or "" for p in files) - our_names
    if missing_names:
        diff["filenames"] = (sorted(our_names), sorted(missing_names))

    addresses = {
        "from": ((parsed.from_.email,) if parsed.from_ else (), msg.get_all("from", [])[:1]),
        "to": (tuple(a.email for a in parsed.to), msg.get_all("to", [])),
        "cc": (tuple(a.email for a in parsed.cc), msg.get_all("cc", [])),
    }
    for aspect, (mine, values) in addresses.items():
        std = _emails(values)
        if aspect == "from":
            std = std[:1]
        if tuple(dict.fromkeys(mine)) != std:
            diff[aspect] = (mine, std)

    our_id = () if parsed.message_id.endswith(f"@{SYNTHETIC_DOMAIN}>") else (parsed.message_id,)
    std_id = _ids(msg.get("message-id"))[:1]
    if our_id != std_id:
        diff["message_id"] = (our_id, std_id)
    std_refs = _ids(" ".join(str(v) for v in msg.get_all("references", [])))
    if parsed.references != std_refs:
        diff["references"] = (parsed.references, std_refs)
    return diff


def has_sender(raw: bytes) -> bool | None:
    """Whether hubdesk found someone to answer (None: rejected)."""
    parsed = parse_email(raw)
    if not isinstance(parsed, ParsedEmail):
        return None
    return parsed.from_ is not None
