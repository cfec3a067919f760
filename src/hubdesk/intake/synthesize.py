"""Building a real RFC 5322 message from the spec's `email_data` JSON (test endpoint).

The endpoint feeds the same pipeline as real mail, so the JSON becomes bytes first. Values
that would break a header (CR, LF, NUL) are refused, never folded into the message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
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
    message = EmailMessage()
    message["From"] = _address("from_address", from_address)
    message["To"] = _address("to", to)
    if cc:
        message["Cc"] = ", ".join(_address("cc", c) for c in cc)
    message["Subject"] = subject
    message["Date"] = format_datetime((received_at or datetime.now(UTC)).astimezone(UTC))
    if in_reply_to:
        message["In-Reply-To"] = _angle(in_reply_to)
    if references:
        message["References"] = references
    message.set_content(body)
    # The Message-ID line is written as given (printable ASCII, checked above), first as
    # before: Python's header parser raises IndexError on some ids it cannot read (`<]x>`,
    # `<(x>`, `<@>`: the schemathesis long pass, a 500) and cuts others short (`<a b@x>`
    # became `<a`), while a valid id came out unchanged.
    given = _angle(message_id) if message_id else make_msgid(domain=domain)
    return b"Message-ID: " + given.encode("ascii") + b"\r\n" + message.as_bytes(policy=SMTP)


def _angle(message_id: str) -> str:
    value = message_id.strip()
    return value if value.startswith("<") else f"<{value}>"


def _address(name: str, value: str) -> str:
    address = value.strip(" \t")
    local, _at, domain = address.rpartition("@")
    if not is_email_syntax(address):
        raise ValidationFailed(f"{name} {value!r} is not a plain e-mail address")
    try:
        return str(Address(username=local, domain=domain))
    except (ValueError, IndexError) as exc:
        raise ValidationFailed(f"{name} {value!r} is not a valid e-mail address: {exc}") from None
