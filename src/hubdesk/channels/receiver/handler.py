"""The LMTP/SMTP receiver's hooks: who may receive, and 250 only after the ledger commit.

aiosmtpd calls these per command. Database work runs in a thread (never in the event loop),
so one slow commit does not stall other sessions. Replies (RFC 5321 4.2, RFC 3463 codes):

- RCPT of an address that is not ours: 550 5.1.1; of a disabled mailbox: 450 4.2.1;
  over RECEIVER_MAX_RECIPIENTS: 452 4.5.3 (RFC 5321 4.5.3.1.10 asks for 452, not 5xx).
- DATA with a bare CR or LF: 550 5.6.0 (RFC 5321 2.3.8: lines end in CRLF; a lone LF is
  what SMTP smuggling hides a second message behind, RELIABILITY T38).
- database or object store unavailable: 451 4.3.0, full disk: 452 4.3.1, so the sender
  retries (T40).
- 250 only once the ledger row committed (`GroupCommitter`: deliveries of concurrent sessions
  share one commit); processing happens afterwards, off the session.

LMTP answers DATA once per accepted recipient (RFC 2033 4.2) but the message is stored once:
one ledger row, its mailbox the first recipient's, every RCPT recorded in the envelope.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from hubdesk.channels.receiver import recipients
from hubdesk.errors import DatabaseUnavailable, StorageError, StorageUnavailable, is_disk_full
from hubdesk.inbound import group_commit
from hubdesk.runtime import Runtime

log = logging.getLogger(__name__)

_BARE_LINE_END: Final = re.compile(rb"\r(?!\n)|(?<!\r)\n")
TEMPFAIL: Final = "451 4.3.0 The helpdesk database is unavailable; try again later"
DISABLED: Final = "451 4.3.2 Email-to-ticket is switched off here; try again later"
UNEXPECTED: Final = "451 4.3.0 Temporary failure; try again later"
STORE_DOWN: Final = "451 4.3.0 The message store is unavailable; try again later"
NO_SPACE: Final = "452 4.3.1 Insufficient system storage"


class LedgerHandler:
    """aiosmtpd handler that keeps accepted mail in the ledger; one per listener."""

    def __init__(self, runtime: Runtime, protocol: str, on_received: Callable[[int], None]) -> None:
        self.runtime = runtime
        self.protocol = protocol
        self.on_received = on_received
        self.committer = group_commit.for_runtime(runtime)
        """Concurrent sessions' deliveries share ledger commits (250 after the shared one)."""
        self._busy = 0
        self._idle = threading.Condition()
        self.executor = ThreadPoolExecutor(
            max_workers=max(8, runtime.settings.receiver_max_sessions),
            thread_name_prefix=f"{protocol}-db",
        )
        """The session's database work (RCPT look-ups, DATA commits), in threads of its own:
        a DATA waits in its thread for the shared commit, so the event loop's default pool
        (cores + 4 threads) would leave RCPT look-ups queued behind the waiting deliveries and
        keep commits small. One thread per session at most (threads start only when used)."""

    def _enabled(self) -> bool:
        settings = self.runtime.settings
        return settings.ticket_enabled and settings.ticket_email_integration

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not self._enabled():
            return DISABLED
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.runtime.settings.receiver_max_recipients:
            return "452 4.5.3 Too many recipients"
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(
                self.executor, recipients.resolve, self.runtime.db, self.runtime.settings, address
            )
        except DatabaseUnavailable as exc:
            log.warning("RCPT %r: %s", address, exc)
            return TEMPFAIL
        except Exception:
            log.exception("RCPT %r failed", address)
            return UNEXPECTED
        # The address is not echoed: it is the client's text, and replies are ours.
        if found is None:
            return "550 5.1.1 No such mailbox here"
        if not found.enabled:
            return "450 4.2.1 Mailbox disabled; try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        if not hasattr(envelope, "hubdesk_mailbox_id"):
            envelope.hubdesk_mailbox_id = found.mailbox_id
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or b""
        if _BARE_LINE_END.search(raw):
            return self._reply(
                envelope, "550 5.6.0 Bare CR or LF in message; lines must end in CRLF"
            )
        facts = {
            "channel": self.protocol,
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
            "helo": session.host_name,
            "peer": str(session.peer[0]) if session.peer else None,
        }
        mailbox_id = getattr(envelope, "hubdesk_mailbox_id", None)
        try:
            inbound_id = await asyncio.get_running_loop().run_in_executor(
                self.executor, self._commit, raw, facts, mailbox_id, id(session)
            )
        except DatabaseUnavailable as exc:
            log.warning("DATA from %r: %s", envelope.mail_from, exc)
            return self._reply(envelope, NO_SPACE if is_disk_full(exc) else TEMPFAIL)
        except StorageUnavailable as exc:
            log.warning("DATA from %r: %s", envelope.mail_from, exc)
            return self._reply(envelope, STORE_DOWN)
        except (OSError, StorageError) as exc:
            log.error("DATA from %r: cannot store the message: %s", envelope.mail_from, exc)
            if is_disk_full(exc):
                return self._reply(envelope, NO_SPACE)
            return self._reply(envelope, "451 4.3.0 Cannot store the message; try again")
        except Exception:
            log.exception("DATA from %r failed", envelope.mail_from)
            return self._reply(envelope, UNEXPECTED)
        self.on_received(inbound_id)
        return self._reply(envelope, f"250 2.0.0 OK: queued as {inbound_id}")

    def _commit(
        self, raw: bytes, facts: dict[str, Any], mailbox_id: int | None, session: int
    ) -> int:
        """Runs in a worker thread; counted, so that a shutdown can let it finish."""
        with _Busy(self):
            return self.committer.receive(
                raw, source=self.protocol, envelope=facts, mailbox_id=mailbox_id, sender=session
            )

    async def handle_exception(self, error: Exception) -> str:
        """Anything unforeseen is a temporary failure: a 5xx would make the sender bounce
        mail we might well accept on the next try (aiosmtpd's default is 500)."""
        log.error("receiver error: %s: %s", type(error).__name__, error)
        return UNEXPECTED

    def _reply(self, envelope: Any, status: str) -> str:
        if self.protocol != "lmtp":
            return status
        return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no message is being committed (for a clean shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


class _Busy:
    """Counts a commit in flight, so that shutdown can wait for it to finish."""

    def __init__(self, handler: LedgerHandler) -> None:
        self.handler = handler

    def __enter__(self) -> None:
        with self.handler._idle:
            self.handler._busy += 1

    def __exit__(self, *_exc: object) -> None:
        with self.handler._idle:
            self.handler._busy -= 1
            self.handler._idle.notify_all()
