"""The MIME structure of a message as byte offsets, found before anything is decoded.

This pass enforces every structural budget (part count, nesting depth, and the header budgets
of each entity) while it walks the raw bytes, so a part-count bomb (100,000 empty parts) or a
100,000-level nesting is rejected after at most `max_mime_parts` boundary hits or
`max_mime_depth` levels, without recursion and without copying payloads (RELIABILITY T04,
T05). Boundaries are found with `bytes.find`; each nesting level scans only its own range, so
the cost is at most (depth x size) bytes of C-speed search.

Attached messages (message/rfc822 in 7bit/8bit/binary) are scanned too, so their parts and
depth count against the budgets, but their entities are marked `attached`: the body and
attachment selection keeps the attached message as one opaque file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubdesk.mail.headers import HeaderBlock, split_header_block
from hubdesk.mail.limits import LimitExceeded, MailLimits
from hubdesk.mail.params import HeaderParams, parse_params
from hubdesk.mail.transfer import canonical_cte

_LINE_BREAK = b"\r\n"
_MESSAGE_TYPES = frozenset({"message/rfc822", "message/global"})


@dataclass(slots=True, eq=False)
class Entity:
    """One MIME entity: its header block, body range and (for containers) children."""

    header: HeaderBlock
    end: int
    content_type: str
    """Effective type, lowercased; `text/plain` when the declared one is unusable."""
    ctype: HeaderParams
    depth: int
    attached: bool
    children: list[Entity] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    @property
    def body_start(self) -> int:
        return self.header.body_start

    @property
    def is_multipart(self) -> bool:
        return bool(self.children) and self.content_type.startswith("multipart/")

    def cte(self) -> str:
        return (self.header.get("content-transfer-encoding") or "").strip()


def _content_type(header: HeaderBlock, default: str) -> tuple[str, HeaderParams, list[str]]:
    values = header.get_all("content-type")
    defects: list[str] = []
    if not values:
        return default, HeaderParams(default), defects
    if len(values) > 1:
        defects.append("duplicate_content_type")
    ctype = parse_params(values[0])
    main = ctype.value
    slash = main.find("/")
    if slash <= 0 or slash == len(main) - 1 or " " in main:
        # RFC 2045 5.2: an unusable Content-Type means text/plain (us-ascii).
        defects.append("invalid_content_type")
        return "text/plain", ctype, defects
    return main, ctype, defects


def _delimiters(
    data: bytes, boundary: bytes, start: int, end: int, budget: int
) -> tuple[list[tuple[int, int]], bool]:
    """Boundary delimiter lines in data[start:end] (RFC 2046 5.1.1).

    Returns [(line_start, after_line)] for each opening delimiter found, the last entry being
    the close delimiter when `closed` is True. Stops with `mime_parts` once more than
    `budget` delimiters were seen.
    """
    needle = b"--" + boundary
    found: list[tuple[int, int]] = []
    pos = start
    while True:
        i = data.find(needle, pos, end)
        if i < 0:
            return found, False
        if i == start or data[i - 1] in _LINE_BREAK:
            j = i + len(needle)
            close = data.startswith(b"--", j, end)
            if close:
                j += 2
            while j < end and data[j] in b" \t":
                j += 1  # transport padding (RFC 2046 5.1.1)
            if j == end or data[j] in _LINE_BREAK:
                if j < end:
                    j += 2 if data.startswith(b"\r\n", j, end) else 1
                found.append((i, j))
                if close:
                    return found, True
                if len(found) > budget:
                    raise LimitExceeded("mime_parts", "too many MIME parts")
                pos = j
                continue
        pos = i + 1


def _part_end(data: bytes, line_start: int, part_start: int) -> int:
    """The part ends before the line break that precedes the delimiter (RFC 2046 5.1.1)."""
    end = line_start
    if end > part_start and data[end - 1] == 0x0A:
        end -= 1
        if end > part_start and data[end - 1] == 0x0D:
            end -= 1
    elif end > part_start and data[end - 1] == 0x0D:
        end -= 1
    return max(end, part_start)


class _Scanner:
    def __init__(self, data: bytes, limits: MailLimits) -> None:
        self.data = data
        self.limits = limits
        self.parts = 0

    def entity(self, start: int, end: int, depth: int, attached: bool, default: str) -> Entity:
        if depth > self.limits.max_mime_depth:
            raise LimitExceeded(
                "mime_depth", f"MIME nesting deeper than {self.limits.max_mime_depth}"
            )
        if depth > 0:
            self.parts += 1
            if self.parts > self.limits.max_mime_parts:
                raise LimitExceeded(
                    "mime_parts", f"more than {self.limits.max_mime_parts} MIME parts"
                )
        header = split_header_block(self.data, start, end, self.limits, allow_mbox_from=depth == 0)
        content_type, ctype, defects = _content_type(header, default)
        return Entity(header, end, content_type, ctype, depth, attached, defects=defects)

    def expand(self, ent: Entity) -> list[Entity]:
        """Create the children of `ent` (none for a leaf)."""
        if ent.content_type.startswith("multipart/"):
            return self._split_multipart(ent)
        if ent.content_type in _MESSAGE_TYPES and canonical_cte(ent.cte()) in (
            "7bit",
            "8bit",
            "binary",
        ):
            inner = self.entity(ent.body_start, ent.end, ent.depth + 1, True, "text/plain")
            ent.children.append(inner)
            return [inner]
        return []

    def _not_multipart(self, ent: Entity, defect: str) -> list[Entity]:
        """A multipart without parts is read as text (RFC 2046 5.1.1 gives no better)."""
        ent.defects.append(defect)
        if ent.depth == 0:
            # The stdlib's name for "the message says multipart but has no parts".
            ent.defects.append("MultipartInvariantViolationDefect")
        ent.content_type = "text/plain"
        return []

    def _split_multipart(self, ent: Entity) -> list[Entity]:
        boundary = ent.ctype.get("boundary")
        if not boundary:
            return self._not_multipart(ent, "NoBoundaryInMultipartDefect")
        needle = boundary.encode("utf-8", "surrogateescape")
        budget = self.limits.max_mime_parts - self.parts
        found, closed = _delimiters(self.data, needle, ent.body_start, ent.end, budget)
        openings = found[:-1] if closed else found
        if not openings:
            return self._not_multipart(ent, "StartBoundaryNotFoundDefect")
        if not closed:
            ent.defects.append("CloseBoundaryNotFoundDefect")
        default = "message/rfc822" if ent.content_type == "multipart/digest" else "text/plain"
        attached = ent.attached
        for index, (_line_start, part_start) in enumerate(openings):
            if index + 1 < len(found):
                part_end = _part_end(self.data, found[index + 1][0], part_start)
            else:
                part_end = ent.end
            child = self.entity(part_start, part_end, ent.depth + 1, attached, default)
            ent.children.append(child)
        return ent.children


def scan_structure(data: bytes, limits: MailLimits) -> Entity:
    """The entity tree of `data`. Raises `LimitExceeded` when a budget is exceeded."""
    scanner = _Scanner(data, limits)
    root = scanner.entity(0, len(data), 0, False, "text/plain")
    stack = [root]
    while stack:
        ent = stack.pop()
        children = scanner.expand(ent)
        stack.extend(reversed(children))
    return root
