"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for outbound tests.

It can offer STARTTLS with a given certificate, refuse recipients with a chosen reply
(temporary 4xx or permanent 5xx), and records each transaction's envelope and bytes exactly.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from tests.support.dovecot import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data, policy=compat32)

    def header_names(self) -> list[str]:
        return [name.lower() for name in self.message]

    def header(self, name: str) -> str:
        """The header's value unfolded (long values are folded onto several lines)."""
        return " ".join(str(self.message[name] or "").split())


@dataclass
class SinkHandler:
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    """recipient -> full SMTP reply, e.g. `451 4.3.0 try later` or `550 5.1.1 no such user`."""
    commands: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    """Every AUTH attempt the server saw (login names): a client must never send one in
    clear."""

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        login = getattr(data, "login", b"")
        self.logins.append(login.decode() if isinstance(login, bytes) else str(login))
        return AuthResult(success=True)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.commands.append(f"MAIL FROM:<{address}>")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.commands.append(f"RCPT TO:<{address}>")
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        self.received.append(Received(envelope.mail_from or "", list(envelope.rcpt_tos), data))
        return "250 Message accepted"


@contextmanager
def smtp_sink(
    *, cert: Path | None = None, key: Path | None = None, starttls: bool = True
) -> Iterator[tuple[int, SinkHandler]]:
    """A running sink on 127.0.0.1:<port>; with `cert`/`key` it offers (and requires)
    STARTTLS, unless `starttls=False` makes it a plain server that offers none."""
    handler = SinkHandler()
    port = free_port()
    options: dict[str, Any] = {
        "decode_data": False,
        "authenticator": handler.authenticate,
        # Offer AUTH even without TLS, so that a client that would log in in clear is seen.
        "auth_require_tls": False,
    }
    if cert is not None and key is not None and starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        options.update(tls_context=context, require_starttls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()
