"""The values the mail parser produces: frozen, pure, and free of any I/O.

`parse_email(raw)` (in `hubdesk.mail.parse`) returns either a `ParsedEmail` or a
`ParseRejection`; a rejection is a disposition (the message is quarantined with its reason),
never an exception.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Address:
    """One parsed mailbox. `email` is lowercased; `name` is display text only. `email` has
    no `@` only for a repaired From that named a bare local part (`mailer-daemon`)."""

    name: str
    email: str

    @property
    def domain(self) -> str:
        _, at, domain = self.email.rpartition("@")
        return domain if at else ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A MIME leaf (or a file unpacked from TNEF) that is not the message body."""

    filename: str
    """Safe display name: no path, no control characters, bounded length."""
    content_type: str
    payload: bytes
    inline: bool = False
    content_id: str | None = None
    original_filename: str | None = None
    """The name as the sender wrote it (decoded), kept only as escaped display metadata."""
    origin: str = "mime"
    """Where it came from: `mime`, `tnef` (unpacked from winmail.dat) or `uuencode`."""

    @property
    def size(self) -> int:
        return len(self.payload)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


@dataclass(frozen=True, slots=True)
class BodyPart:
    """A MIME leaf whose text became (part of) `body_text` or `body_html`."""

    content_type: str
    size: int
    """Decoded size in bytes (after the transfer encoding, before the charset)."""
    charset: str | None = None
    """The charset the part declared (the one used may differ; see `defects`)."""


@dataclass(frozen=True, slots=True)
class SkippedPart:
    """A MIME leaf that is neither body nor attachment, listed with the reason."""

    content_type: str
    reason: str
    size: int = 0


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    """One method's result from an Authentication-Results header of a trusted MTA."""

    method: str
    result: str
    authserv_id: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ParseRejection:
    """The message could not be parsed within the budgets; it is quarantined with `reason`."""

    reason: str
    """A short stable code, e.g. `message_size`, `header_size`, `mime_parts`, `mime_depth`."""
    detail: str
    raw_sha256: str


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """Everything later pipeline steps need to know about one message."""

    raw_sha256: str
    size: int
    message_id: str
    """Normalised `<local@domain>`; synthetic and deterministic when the header is missing."""
    message_id_synthetic: bool
    content_key: str
    """sha256 over the body and the From, To, Subject and Date headers (not transport headers):
    two deliveries of one message share it; two messages sharing a Message-ID do not."""
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    subject_normalized: str
    from_: Address | None
    """Who to answer: the From address, or - when the From was refused - the fallback named
    by `sender_source`; None when no header gave anyone."""
    from_problem: str | None
    """Why the From header itself was refused (`missing`, `unparseable`,
    `multiple_addresses`, `multiple_fields`, `group`, `empty`), or None when it was read
    (cleanly or repaired). When set, `from_` is a fallback or None."""
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    body_text: str
    body_visible: str
    body_html: str | None
    """Sanitised HTML (nh3) for display, or None when the message has no HTML body."""
    attachments: tuple[Attachment, ...]
    skipped_parts: tuple[SkippedPart, ...]
    auto_reply: bool
    bounce: bool
    bounce_recipients: tuple[str, ...]
    bounce_original_message_id: str | None
    bulk: bool
    authentication_results: tuple[AuthVerdict, ...]
    headers: tuple[tuple[str, str], ...]
    """All header fields, names lowercased, values decoded and unfolded, in order."""
    defects: tuple[str, ...]
    facts: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Why each of auto_reply / bulk / bounce was set, e.g. {"auto_reply": "Auto-Submitted"}."""
    body_parts: tuple[BodyPart, ...] = ()
    """The MIME leaves that make up the body, in order (for accounting and the email log)."""
    sender_source: str | None = "from"
    """Where `from_` came from, for how far to trust it: `from` (a clean From),
    `from_repaired` (a malformed From read as a human would, see `from_repair`), `sender`,
    `reply_to` or `return_path` (From refused, that header answered instead), None (no
    sender). Threading should trust only `from` fully: the fallbacks are not the author."""
    from_repair: str | None = None
    """How a malformed From was read when `sender_source` is `from_repaired`:
    `unquoted_comma`, `multiple_addresses` (the first taken), `trailing_dot`,
    `missing_angle_bracket`, `no_domain`, `unbracketed_address`, `address_in_display_name`,
    `display_name_syntax`, `duplicate_from_fields`."""
    bounce_kind: str | None = None
    """`permanent` (the address is bouncing) or `temporary` (delayed, still retrying) when
    `bounce` is true; None when it is not a bounce or the kind could not be told."""

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None
