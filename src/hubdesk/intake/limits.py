"""The parser's budgets from the settings (a light module: the CLI's `parse` imports it)."""

from __future__ import annotations

from hubdesk.config import Settings
from hubdesk.mail.limits import MailLimits


def mail_limits(settings: Settings) -> MailLimits:
    return MailLimits(
        max_message_bytes=settings.mail_max_message_bytes,
        max_header_field_bytes=settings.mail_max_header_bytes,
        max_header_block_bytes=settings.mail_max_headers_total_bytes,
        max_mime_parts=settings.mail_max_parts,
        max_mime_depth=settings.mail_max_depth,
    )
