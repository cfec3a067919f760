"""The LMTP and SMTP listeners: aiosmtpd on an event loop in a thread of its own.

Limits (RELIABILITY T38): SIZE is advertised as MAIL_MAX_MESSAGE_BYTES and enforced both at
MAIL FROM SIZE= and while reading DATA (552 5.3.4); command lines are capped by aiosmtpd
(512 octets plus extension allowances, RFC 5321 4.5.3.1.4); DATA ends only at CRLF.CRLF
(aiosmtpd >= 1.4.5); an idle or trickling session is closed after RECEIVER_IDLE_TIMEOUT;
recipients are capped by the handler. No AUTH and no STARTTLS are offered: the receiver is
meant for the local MTA on loopback (Postfix `lmtp:inet:127.0.0.1:2424`).

Shutdown stops accepting, lets a message that is being committed finish, then closes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Final

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from hubdesk.channels.receiver import LedgerHandler

log = logging.getLogger(__name__)

# aiosmtpd's own replies, given the enhanced status codes of RFC 3463.
_REWORDED: Final = {
    "552 Error: message size exceeds fixed maximum message size": (
        "552 5.3.4 Message size exceeds fixed maximum message size"
    ),
    "552 Error: Too much mail data": "552 5.3.4 Message too big for system",
    "500 Line too long (see RFC5321 4.5.3.1.6)": "500 5.5.2 Line too long (RFC 5321 4.5.3.1.6)",
}
# Errors aiosmtpd gives at the end of DATA, which LMTP must give once per recipient.
_END_OF_DATA: Final = frozenset(
    {"552 Error: Too much mail data", "500 Line too long (see RFC5321 4.5.3.1.6)"}
)


class _Reworded(SMTP):
    async def push(self, status: Any) -> None:
        if isinstance(status, str):
            status = _REWORDED.get(status, status)
        await super().push(status)


class ReceiverSMTP(_Reworded):
    """SMTP, for senders that cannot speak LMTP."""


class ReceiverLMTP(LMTP, _Reworded):
    """LMTP (RFC 2033): one reply per recipient after DATA, errors included."""

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status in _END_OF_DATA and self.envelope is not None:
            count = max(1, len(self.envelope.rcpt_tos))
            status = "\r\n".join([_REWORDED[status]] * count)
        await super().push(status)


class ReceiverServer:
    """One listening socket. `start()` binds (port 0 picks a free port, see `port`)."""

    def __init__(
        self,
        handler: LedgerHandler,
        *,
        host: str,
        port: int,
        lmtp: bool,
        max_message_bytes: int,
        idle_timeout: float,
        hostname: str,
    ) -> None:
        self.handler = handler
        self.host, self.port, self.lmtp = host, port, lmtp
        self._options: dict[str, Any] = {
            "data_size_limit": max_message_bytes,
            "timeout": idle_timeout,
            "hostname": hostname,
            "enable_SMTPUTF8": True,
        }
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def kind(self) -> str:
        return "LMTP" if self.lmtp else "SMTP"

    def _protocol(self) -> SMTP:
        kind = ReceiverLMTP if self.lmtp else ReceiverSMTP
        return kind(self.handler, loop=self._loop, **self._options)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.kind}-receiver", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                self._loop.create_server(self._protocol, host=self.host, port=self.port)
            )
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, let a commit in progress finish (up to `grace` s), then close."""
        if self._thread is None or self._server is None:
            return
        self._loop.call_soon_threadsafe(self._server.close)
        if not self.handler.wait_idle(grace):
            log.warning("%s receiver: a message was still being stored at shutdown", self.kind)
        self._loop.call_soon_threadsafe(self._cancel_all)
        self._thread.join(timeout=grace)
        self._thread = None

    def _cancel_all(self) -> None:
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.call_soon(self._loop.stop)
