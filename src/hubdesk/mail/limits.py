"""The budgets one message may spend: sizes, counts and depths checked before and while parsing.

RELIABILITY design rule 5: a message over a budget is rejected (quarantined) with a stable reason
code instead of being parsed at unbounded cost. The defaults follow that rule; the lead maps
settings onto this dataclass. Every field is a hard ceiling, not a hint.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

MAX_SUPPORTED_DEPTH = 200


@dataclass(frozen=True, slots=True)
class MailLimits:
    """Hard ceilings for one `parse_email` call (all counts inclusive)."""

    max_message_bytes: int = 25 * 1024 * 1024
    """Whole raw message; larger is rejected as `message_size` before anything is read."""
    max_header_field_bytes: int = 64 * 1024
    """One header field including its folded continuation lines (`header_size`)."""
    max_header_block_bytes: int = 256 * 1024
    """All header fields of one entity (the message or one MIME part) (`headers_total`)."""
    max_header_fields: int = 1_000
    """Number of header fields of one entity (`header_count`)."""
    max_mime_parts: int = 1_000
    """MIME entities below the top level, counted across the whole tree (`mime_parts`)."""
    max_mime_depth: int = 50
    """Nesting of multipart and message/rfc822 levels (`mime_depth`)."""
    max_html_chars: int = 1_000_000
    """HTML characters fed to the sanitizer and to the html-to-text converter; the rest is cut
    with a visible truncation marker and a defect (RELIABILITY T10)."""
    max_visible_scan_chars: int = 256 * 1024
    """Characters of the text body searched for quoted replies and signatures; the new text of a
    reply is at the top, so a longer body is cut for this search only."""
    max_tnef_bytes: int = 10 * 1024 * 1024
    """A winmail.dat larger than this is kept as a file instead of being unpacked."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"MailLimits.{f.name} must be a positive int, got {value!r}")
        if self.max_mime_depth > MAX_SUPPORTED_DEPTH:
            # The body walk recurses once per level; far below Python's recursion limit.
            raise ValueError(f"MailLimits.max_mime_depth must be <= {MAX_SUPPORTED_DEPTH}")


DEFAULT_LIMITS = MailLimits()


class LimitExceeded(Exception):
    """A budget was exceeded while scanning; `reason` is the stable rejection code.

    Raised deep inside the scanners and turned into a `ParseRejection` by `parse_email`; it
    never escapes the package.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
