"""Mail too large to download: its header block is kept in the ledger as `quarantined`.

RELIABILITY T06: an IMAP message whose RFC822.SIZE is over MAIL_MAX_MESSAGE_BYTES is never
downloaded. Its ledger row holds only the header block (BODY.PEEK[HEADER]), the envelope says
`truncated: header_only` with the real size, and the reason starts with `message_size:`. Such
a row must never run through the pipeline as if it were the message (a ticket made of a
header alone), so rows left `received` by a crash between the two commits are settled here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from hubdesk.audit import service as audit
from hubdesk.budgets import mail_limits
from hubdesk.inbound import service as inbound
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import SYSTEM

TRUNCATED: Final = "truncated"
HEADER_ONLY: Final = "header_only"


def is_header_only(envelope: Mapping[str, Any] | None) -> bool:
    return bool(envelope) and envelope.get(TRUNCATED) == HEADER_ONLY  # type: ignore[union-attr]


def reason(size: int, limit: int) -> str:
    return (
        f"message_size: {size} bytes is over MAIL_MAX_MESSAGE_BYTES ({limit}); only the "
        "header block was fetched"
    )


def quarantine(runtime: Runtime, inbound_id: int) -> None:
    """Settle a header-only row as quarantined (once; a settled row is left alone)."""
    with runtime.db.transaction() as session:
        row = inbound.lock(session, inbound_id)
        if row.status != "received":
            return
        size = int(row.envelope.get("size", row.size))
        parsed = parse_email(inbound.raw_bytes(runtime.blobs, row), mail_limits(runtime.settings))
        if isinstance(parsed, ParsedEmail):
            # Shown in the admin view, and what a UIDVALIDITY resync recognises it by.
            row.message_id = None if parsed.message_id_synthetic else parsed.message_id
            row.subject = parsed.subject[:2000]
            row.from_address = parsed.from_.email if parsed.from_ else None
        inbound.settle(row, "quarantined", reason(size, runtime.settings.mail_max_message_bytes))
        audit.record(
            session,
            SYSTEM,
            entity_type="inbound_message",
            entity_id=row.id,
            action="quarantined",
            changes={"status": [None, "quarantined"], "reason": [None, "message_size"]},
        )
