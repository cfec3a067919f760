"""The budgets of mail in one place: the parser's (from the settings), and the fixed caps on
what a mail may cost after parsing: the text stored on a ticket, the text put in the search
index, and the HTML an agent's browser is asked to render.

A light module: the CLI's `parse`, the ticket search and the web UI import it.

- `MAX_STORED_TEXT_CHARS`: a mail's text as stored in the ticket description, the reply
  comment and the email log. Longer text is cut there with `SHORTENED_MARKER`; the raw mail is
  kept (until `HUBDESK_RAW_RETENTION_DAYS`) and the ticket page links to it.
- `MAX_INDEXED_PART_CHARS` / `MAX_INDEXED_DOCUMENT_CHARS`: each text (subject, description,
  comment, mail) and a ticket's whole search document.
- `RenderBudget`: past any of its figures the ticket page shows "too complex to display,
  download the original" instead of the HTML frame (RELIABILITY T10: a 5 MB one-line HTML
  mail took 80 s to lay out in Chromium while the server answered in 30 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hubdesk.config import Settings
from hubdesk.mail.limits import MailLimits

MAX_STORED_TEXT_CHARS: Final = 256 * 1024
MAX_INDEXED_PART_CHARS: Final = 64 * 1024
MAX_INDEXED_DOCUMENT_CHARS: Final = 1024 * 1024
SHORTENED_MARKER: Final = (
    "\n\n[… The text was shortened here: it has {length:,} characters. "
    "The whole message is in the original mail.]"
)


@dataclass(frozen=True, slots=True)
class RenderBudget:
    """What sanitised mail HTML may weigh and still be shown in the agent's browser."""

    max_chars: int = 500_000
    """Characters of sanitised HTML."""
    max_elements: int = 20_000
    """Start tags."""
    max_line_chars: int = 200_000
    """Characters between two line breaks of the HTML source (layout of one enormous line of
    text is what made Chromium take 80 s)."""


RENDER_BUDGET: Final = RenderBudget()


def mail_limits(settings: Settings) -> MailLimits:
    return MailLimits(
        max_message_bytes=settings.mail_max_message_bytes,
        max_header_field_bytes=settings.mail_max_header_bytes,
        max_header_block_bytes=settings.mail_max_headers_total_bytes,
        max_mime_parts=settings.mail_max_parts,
        max_mime_depth=settings.mail_max_depth,
    )


def shorten(text: str, limit: int = MAX_STORED_TEXT_CHARS, *, full_length: int = 0) -> str:
    """`text`, or its first `limit` characters and a note that it was shortened (also when
    `text` was already cut elsewhere from a `full_length` longer than `limit`)."""
    length = max(len(text), full_length)
    if length <= limit:
        return text
    return text[:limit] + SHORTENED_MARKER.format(length=length)
