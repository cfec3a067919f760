"""Which mailboxes this worker polls: take free leases, renew held ones, start pollers.

`tick` runs as a periodic job every third of MAILBOX_LEASE_SECONDS. It renews the leases of
running pollers (a poller whose lease is gone stops on its own), forgets pollers that ended,
and starts one for every enabled IMAP mailbox whose lease it can take. A mailbox whose
worker died is thus picked up by another within a lease period.
"""

from __future__ import annotations

import logging
import threading
import time

from hubdesk.channels.imap import leases
from hubdesk.channels.imap.poller import MailboxPoller
from hubdesk.mailboxes import service as mailboxes
from hubdesk.runtime import Runtime

log = logging.getLogger(__name__)


class MailboxSupervisor:
    def __init__(self, runtime: Runtime, holder: str, stop: threading.Event) -> None:
        self.runtime, self.holder, self.stop = runtime, holder, stop
        self.pollers: dict[int, MailboxPoller] = {}

    @property
    def every(self) -> float:
        return self.runtime.settings.mailbox_lease_seconds / 3

    def tick(self, runtime: Runtime) -> None:
        settings = runtime.settings
        ttl = settings.mailbox_lease_seconds
        self.pollers = {i: p for i, p in self.pollers.items() if p.is_alive()}
        started = time.monotonic()
        held = leases.renew(runtime.db, list(self.pollers), self.holder, ttl)
        for mailbox_id, poller in self.pollers.items():
            if mailbox_id in held:
                poller.lease.renewed(started)
            else:
                poller.lease.lose()
        if self.stop.is_set() or not (
            settings.ticket_enabled and settings.ticket_email_integration
        ):
            return
        with runtime.db.transaction(write=False) as session:
            wanted = mailboxes.pollable_ids(session)
        for mailbox_id in wanted:
            if mailbox_id in self.pollers:
                continue
            lease = leases.take(runtime.db, mailbox_id, self.holder, ttl)
            if lease is None:
                continue
            poller = MailboxPoller(runtime, mailbox_id, self.holder, lease, self.stop)
            self.pollers[mailbox_id] = poller
            poller.start()
            log.info("polling mailbox %s", mailbox_id)

    def join(self, timeout: float) -> None:
        """Wait for the pollers to finish their current message and release their leases."""
        deadline = time.monotonic() + timeout
        for poller in self.pollers.values():
            poller.join(max(0.0, deadline - time.monotonic()))
