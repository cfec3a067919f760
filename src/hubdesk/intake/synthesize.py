"""Building a real RFC 5322 message from the spec's `email_data` JSON (test endpoint).

The endpoint feeds the same pipeline as real mail, so the JSON becomes bytes first. Values
that would break a header (CR, LF, NUL) are refused, never folded into the message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from typing import Final

from hubdesk.api.limits import HEADER_BREAKS, MESSAGE_ID
from hubdesk.errors import ValidationFailed
from hubdesk.users.service import is_email_syntax

_MESSAGE_ID: Final = re.compile(str(MESSAGE_ID["pattern"]))
# What Python's e-mail headers read as a line break (str.splitlines), and NUL.
_BREAKS: Final = frozenset(HEADER_BREAKS)


def build_message(
    *,
    message_id: str | None,
    subject: str,
    from_address: str,
    body: str,
    received_at: datetime | None,
    in_reply_to: str | None,
    references: str | None,
    to: str,
    cc: list[str],
    domain: str,
) -> bytes:
    for name, value in (
        ("message_id", message_id),
        ("subject", subject),
        ("from_address", from_address),
        ("in_reply_to", in_reply_to),
        ("references", references),
        ("to", to),
        *(("cc", c) for c in cc),
    ):
        if value is not None and any(ch in _BREAKS for ch in value):
            raise ValidationFailed(f"{name} must be a single line without control characters")
    if message_id is not None and not _MESSAGE_ID.match(message_id):
        raise ValidationFailed("message_id must be printable ASCII (RFC 5322 section 3.6.4)")
    # The Message-ID and address lines are written as given (each checked above: printable
    # ASCII for the id, a plain address for the others), in the order Python wrote them.
    # Python's header parser fails on some values it should only mark as defective, which
    # was a 500 here (the schemathesis long pass): an id such as `<]x>`, `<(x>` or `<@>`
    # (IndexError), a Cc list holding `.@example.com` (TypeError); it also cut an id it
    # could not read short (`<a b@x>` became `<a`). hubdesk's own parser reads these lines
    # as it reads received mail; ordinary ids and addresses come out the same as before.
    lines = [
        "Message-ID: " + (_angle(message_id) if message_id else make_msgid(domain=domain)),
        "From: " + _address("from_address", from_address),
        "To: " + _address("to", to),
    ]
    if cc:
        lines.append("Cc: " + ", ".join(_address("cc", c) for c in cc))
    message = EmailMessage()
    message["Subject"] = subject
    message["Date"] = format_datetime((received_at or datetime.now(UTC)).astimezone(UTC))
    if in_reply_to:
        message["In-Reply-To"] = _angle(in_reply_to)
    if references:
        message["References"] = references
    message.set_content(body)
    head = "".join(line + "\r\n" for line in lines).encode("utf-8")
    return head + message.as_bytes(policy=SMTP)


def _angle(message_id: str) -> str:
    value = message_id.strip()
    return value if value.startswith("<") else f"<{value}>"


def _address(name: str, value: str) -> str:
    address = value.strip(" \t")
    if not is_email_syntax(address):
        raise ValidationFailed(f"{name} {value!r} is not a plain e-mail address")
    return address
