"""Composing the mail hubdesk sends (pure): bytes with exactly the headers we set.

Header injection is impossible by construction: every value that reaches a header passes
`header_text` (CR, LF and other controls become spaces) and every address passes
`plain_address` (a strict `local@domain`, no display-name tricks). RFC 3834: automatic mail
carries `Auto-Submitted` and asks Exchange not to answer it (`X-Auto-Response-Suppress`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Final

LOOP_HEADER: Final = "X-Hubdesk-Loop"
_CONTROLS: Final = re.compile(r"[\x00-\x1f\x7f]+")
_LOCAL: Final = re.compile(r"\A[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}\Z")
_DOMAIN: Final = re.compile(
    r"\A(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z"
)
_MESSAGE_ID: Final = re.compile(r"\A<[^<>\s]{1,990}>\Z")


class UnsafeAddress(ValueError):
    """An address that cannot go into a header or an SMTP envelope as it is."""


def header_text(value: str, max_length: int = 900) -> str:
    """A single-line header value: controls (CR, LF, NUL ...) become spaces."""
    return " ".join(_CONTROLS.sub(" ", value).split())[:max_length]


def plain_address(value: str) -> str:
    """`value` as a strict `local@domain`, or `UnsafeAddress` (RELIABILITY T32, T33)."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not _LOCAL.match(local) or ".." in local or not _DOMAIN.match(domain):
        raise UnsafeAddress(f"{value!r} is not a plain e-mail address")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class Outgoing:
    sender: str
    sender_name: str
    to: Sequence[str]
    subject: str
    body: str
    message_id: str
    date: datetime
    cc: Sequence[str] = ()
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    auto_submitted: str | None = None
    """`auto-replied` (an answer to a message) or `auto-generated` (a notification)."""
    loop_token: str | None = None
    attachments: Sequence[tuple[str, str, bytes]] = field(default_factory=tuple)
    reply_to: str | None = None


def compose(message: Outgoing) -> bytes:
    """The RFC 5322 bytes of `message` (CRLF line ends, as SMTP wants them)."""
    email = EmailMessage()
    email["From"] = _named(message.sender_name, plain_address(message.sender))
    email["To"] = ", ".join(plain_address(a) for a in message.to)
    if message.cc:
        email["Cc"] = ", ".join(plain_address(a) for a in message.cc)
    if message.reply_to:
        email["Reply-To"] = plain_address(message.reply_to)
    email["Subject"] = header_text(message.subject)
    email["Date"] = format_datetime(message.date)
    email["Message-ID"] = _message_id(message.message_id)
    if message.in_reply_to:
        email["In-Reply-To"] = _message_id(message.in_reply_to)
    references = [_message_id(r) for r in message.references if _MESSAGE_ID.match(r.strip())]
    if references:
        email["References"] = " ".join(references[-20:])
    if message.auto_submitted:
        email["Auto-Submitted"] = message.auto_submitted
        email["X-Auto-Response-Suppress"] = "All"
        email["Precedence"] = "auto_reply" if message.auto_submitted == "auto-replied" else "bulk"
    if message.loop_token:
        email[LOOP_HEADER] = header_text(message.loop_token, 200)
    email.set_content(message.body.replace("\r\n", "\n").replace("\r", "\n"))
    for filename, content_type, payload in message.attachments:
        maintype, _, subtype = content_type.partition("/")
        email.add_attachment(
            payload,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=header_text(filename, 200) or "attachment",
        )
    return email.as_bytes(policy=SMTP)


def _named(name: str, address: str) -> str:
    display = header_text(name, 200)
    if not display:
        return address
    local, _, domain = address.partition("@")
    return str(HeaderAddress(display_name=display, username=local, domain=domain))


def _message_id(value: str) -> str:
    cleaned = value.strip()
    if not _MESSAGE_ID.match(cleaned):
        raise UnsafeAddress(f"{value!r} is not a Message-ID")
    return cleaned
