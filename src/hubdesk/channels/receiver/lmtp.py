"""The LMTP and SMTP listeners: aiosmtpd on an event loop in a thread of its own.

Limits (RELIABILITY T38): SIZE is advertised as MAIL_MAX_MESSAGE_BYTES and enforced both at
MAIL FROM SIZE= and while reading DATA (552 5.3.4); command lines are capped by aiosmtpd
(512 octets plus extension allowances, RFC 5321 4.5.3.1.4); DATA ends only at CRLF.CRLF
(aiosmtpd >= 1.4.5); an idle or trickling session is closed after RECEIVER_IDLE_TIMEOUT
(the timer restarts only on a complete command); recipients are capped by the handler; at
most RECEIVER_MAX_SESSIONS sessions are open at once per listener: one more is answered
`421 4.3.2` and closed before anything is read (the MTA retries), so a flood of connections
costs a bounded amount of memory and file descriptors; NOOP, VRFY, EXPN and HELP are
limited per session (`421 4.7.0` beyond), so a keep-alive cannot hold a session forever.
No AUTH and no STARTTLS are offered: the receiver is meant for the local MTA on loopback
(Postfix `lmtp:inet:127.0.0.1:2424`).

Shutdown stops accepting, lets a message that is being committed finish, then closes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Final

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from hubdesk.channels.receiver.handler import LedgerHandler

log = logging.getLogger(__name__)

# aiosmtpd's own replies, given the enhanced status codes of RFC 3463.
_REWORDED: Final = {
    "552 Error: message size exceeds fixed maximum message size": (
        "552 5.3.4 Message size exceeds fixed maximum message size"
    ),
    "552 Error: Too much mail data": "552 5.3.4 Message too big for system",
    "500 Line too long (see RFC5321 4.5.3.1.6)": "500 5.5.2 Line too long (RFC 5321 4.5.3.1.6)",
}
# Commands a session may send this often; others are not limited (an MTA reusing one
# connection sends MAIL, RCPT and DATA for many messages).
COMMAND_LIMITS: Final = {"NOOP": 10, "VRFY": 10, "EXPN": 10, "HELP": 10, "*": 1_000_000}
TOO_MANY_SESSIONS: Final = b"421 4.3.2 Too many connections; try again later\r\n"
# Errors aiosmtpd gives at the end of DATA, which LMTP must give once per recipient.
_END_OF_DATA: Final = frozenset(
    {"552 Error: Too much mail data", "500 Line too long (see RFC5321 4.5.3.1.6)"}
)


class _Reworded(SMTP):
    async def push(self, status: Any) -> None:
        if isinstance(status, str):
            status = _REWORDED.get(status, status)
        await super().push(status)


class _Refused(asyncio.Protocol):
    """A connection over RECEIVER_MAX_SESSIONS: 421 and close, nothing read."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(TOO_MANY_SESSIONS)
        transport.close()


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
        max_sessions: int = 100,
    ) -> None:
        self.handler = handler
        self.host, self.port, self.lmtp = host, port, lmtp
        self.max_sessions = max_sessions
        self.sessions = 0
        """Sessions open now (touched only on the event loop's thread)."""
        self.refused = 0
        """Connections refused with 421 since start."""
        self._options: dict[str, Any] = {
            "data_size_limit": max_message_bytes,
            "timeout": idle_timeout,
            "hostname": hostname,
            "enable_SMTPUTF8": True,
            "command_call_limit": COMMAND_LIMITS,
        }
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def kind(self) -> str:
        return "LMTP" if self.lmtp else "SMTP"

    def _protocol(self) -> asyncio.Protocol:
        if self.sessions >= self.max_sessions:
            self.refused += 1
            return _Refused()
        kind = ReceiverLMTP if self.lmtp else ReceiverSMTP
        protocol = kind(self.handler, loop=self._loop, **self._options)
        self.sessions += 1
        lost = protocol.connection_lost

        def connection_lost(error: Exception | None) -> None:
            self.sessions -= 1
            if protocol.session is not None:  # it will not deliver again
                self.handler.committer.forget(id(protocol.session))
            lost(error)

        protocol.connection_lost = connection_lost  # type: ignore[method-assign]
        return protocol

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
        self.handler.executor.shutdown(wait=False)

    def _cancel_all(self) -> None:
        for task in asyncio.all_tasks(self._loop):
            task.cancel()
        self._loop.call_soon(self._loop.stop)
