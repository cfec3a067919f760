"""What a queued message is made of, and the bytes built from it with the settings in force.

A message is queued as a draft (recipients, subject, body, threading ids, attachments by
their blob sha256, the agent's name) in `OutboxMessage.meta["draft"]`. The sender builds the
bytes right before it sends (`build`), so the From name and address (MAIL_FROM_NAME,
SMTP_FROM, MAIL_DOMAIN) are those in force then, not when the message was queued. The row's
`raw` holds the bytes as they would go out when queued, and the bytes that went out once sent.

An agent's reply is From "Agent name via MAIL_FROM_NAME <the mailbox address>"; other mail is
From "MAIL_FROM_NAME <address>". The address is always ours, so answers come back to us: SMTP_FROM,
or the mailbox address a new ticket's mail was sent to for its acknowledgement (one per team's
ticket, docs/teams.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from hubdesk.config import Settings
from hubdesk.mail.compose import Outgoing, compose


def draft(
    *,
    to: Sequence[str],
    cc: Sequence[str],
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    auto_submitted: str | None,
    agent_name: str | None,
    envelope_from: str | None,
    attachments: Sequence[tuple[str, str, bytes]],
    from_address: str | None = None,
) -> dict[str, Any]:
    """The JSON-able parts of a message (attachments by the sha256 of their bytes);
    `from_address`: one of our mailbox addresses to send from instead of SMTP_FROM."""
    parts: dict[str, Any] = {
        "to": list(to),
        "cc": list(cc),
        "subject": subject,
        "body": body,
        "message_id": message_id,
        "in_reply_to": in_reply_to,
        "references": list(references),
        "auto_submitted": auto_submitted,
        "agent_name": agent_name,
        "envelope_from": envelope_from,
        "attachments": [
            [name, content_type, hashlib.sha256(data).hexdigest()]
            for name, content_type, data in attachments
        ],
    }
    if from_address:
        parts["from_address"] = from_address
    return parts


def sender_name(settings: Settings, agent_name: str | None) -> str:
    """`Anna Agent via Support`, or `Support` for mail no agent wrote."""
    return f"{agent_name} via {settings.mail_from_name}" if agent_name else settings.mail_from_name


def envelope_sender(settings: Settings, parts: dict[str, Any]) -> str:
    """The SMTP MAIL FROM: as queued when it was chosen (`""`, the null sender of automatic
    answers), else our address now."""
    chosen = parts.get("envelope_from")
    return chosen if isinstance(chosen, str) else settings.sender_address


def build(
    settings: Settings,
    parts: dict[str, Any],
    date: datetime,
    read_blob: Callable[[str], bytes],
) -> bytes:
    """The message's bytes with `settings` (`read_blob` gives an attachment's bytes)."""
    return compose(
        Outgoing(
            sender=parts.get("from_address") or settings.sender_address,
            sender_name=sender_name(settings, parts.get("agent_name")),
            to=parts["to"],
            cc=parts["cc"],
            subject=parts["subject"],
            body=parts["body"],
            message_id=parts["message_id"],
            date=date,
            in_reply_to=parts["in_reply_to"],
            references=parts["references"],
            auto_submitted=parts["auto_submitted"],
            loop_token=settings.mail_domain,
            attachments=[
                (name, ctype, read_blob(sha)) for name, ctype, sha in parts["attachments"]
            ],
        )
    )
