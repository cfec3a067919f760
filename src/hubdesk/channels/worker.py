"""The worker: every inbound channel and the periodic jobs, in one process.

Threads: the LMTP and SMTP listeners and the processing queue behind them, one poller per
IMAP mailbox whose lease this worker holds, and one thread per periodic job in `JOBS`
(pending ledger rows, the daily raw-mail purge, the outbox sender, SLA escalations, the
time-based automation) plus the
mailbox supervisor, which starts the pollers. The receiver alone (`hubdesk lmtp`) runs
`RECEIVER_JOBS`: the pending job, so accepted mail is never left unprocessed. `stop()` is
the clean shutdown that SIGTERM/SIGINT trigger: listeners stop accepting and finish the
message being stored, pollers finish the message in hand and release their leases, jobs end
after their run.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Final

from hubdesk.automation import timers as automation_timers
from hubdesk.channels import pending
from hubdesk.channels.imap import leases
from hubdesk.channels.imap.supervisor import MailboxSupervisor
from hubdesk.channels.jobs import Job, JobThread
from hubdesk.channels.receiver.handler import LedgerHandler
from hubdesk.channels.receiver.lmtp import ReceiverServer
from hubdesk.errors import ConfigError
from hubdesk.outbox.sender import send_due
from hubdesk.runtime import Runtime
from hubdesk.sla import escalations as sla_escalations

log = logging.getLogger(__name__)

# The periodic jobs: one line each. The outbox sender must see new rows within 5 s.
PENDING: Final = Job("pending", 10.0, pending.process_pending)
JOBS: Final[tuple[Job, ...]] = (
    PENDING,
    Job("purge", 24 * 3600.0, pending.purge_raw_mail),
    Job("outbox", 2.0, send_due),
    Job("sla", 60.0, sla_escalations.evaluate),
    Job("automation", 60.0, automation_timers.run),
)
# `hubdesk lmtp` (the receiver alone) runs the pending job too: mail it accepted just before
# a crash or a database outage is processed without a `hubdesk worker` beside it.
RECEIVER_JOBS: Final[tuple[Job, ...]] = (PENDING,)


@dataclass(frozen=True)
class Listeners:
    """Where the receiver listens; a port of None is not opened (0 picks a free port)."""

    host: str
    lmtp_port: int | None
    smtp_port: int | None

    @classmethod
    def from_settings(cls, runtime: Runtime) -> Listeners:
        settings = runtime.settings
        return cls(
            host=settings.receiver_host,
            lmtp_port=settings.receiver_lmtp_port or None,
            smtp_port=settings.receiver_smtp_port or None,
        )


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        listeners: Listeners,
        *,
        imap: bool = True,
        jobs: tuple[Job, ...] = JOBS,
    ) -> None:
        self.runtime = runtime
        self.stopping = threading.Event()
        self.holder = leases.new_holder()
        self.queue = pending.ProcessingQueue(runtime, self.stopping)
        self.receivers = [
            self._receiver(listeners.host, port, lmtp)
            for port, lmtp in ((listeners.lmtp_port, True), (listeners.smtp_port, False))
            if port is not None
        ]
        self.supervisor = MailboxSupervisor(runtime, self.holder, self.stopping)
        every = list(jobs)
        if imap:
            every.append(Job("mailboxes", self.supervisor.every, self.supervisor.tick))
        self.jobs = [JobThread(runtime, job, self.stopping) for job in every]

    def _receiver(self, host: str, port: int, lmtp: bool) -> ReceiverServer:
        settings = self.runtime.settings
        handler = LedgerHandler(self.runtime, "lmtp" if lmtp else "smtp", self.queue.submit)
        return ReceiverServer(
            handler,
            host=host,
            port=port,
            lmtp=lmtp,
            max_message_bytes=settings.mail_max_message_bytes,
            idle_timeout=settings.receiver_idle_timeout,
            hostname=settings.mail_domain,
            max_sessions=settings.receiver_max_sessions,
        )

    def start(self) -> None:
        self.queue.start()
        for receiver in self.receivers:
            try:
                receiver.start()
            except OSError as exc:
                self.stop()
                raise ConfigError(
                    f"cannot listen for {receiver.kind} on {receiver.host}:{receiver.port}: "
                    f"{exc.strerror or exc}"
                ) from exc
            log.info("%s receiver on %s:%s", receiver.kind, receiver.host, receiver.port)
        for thread in self.jobs:
            thread.start()

    def stop(self, grace: float = 30.0) -> None:
        """Clean shutdown: finish what is in hand, release leases, then return."""
        self.stopping.set()
        for receiver in self.receivers:
            receiver.stop(grace)
        self.supervisor.join(grace)
        for thread in [*self.jobs, self.queue]:
            if thread.is_alive():
                thread.join(grace)
        log.info("worker stopped")
