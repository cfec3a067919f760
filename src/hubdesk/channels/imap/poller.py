"""The life of one mailbox's poller: connect, poll, wait for news, repeat, until told to stop.

A poller runs in its own thread while its worker holds the mailbox's lease. It reconnects
after failures with a growing pause (capped at the poll interval), shows every failure on
the mailbox (`state` error, the server's words in `last_error`), and stops when the lease is
lost, the mailbox is removed or disabled, or its account settings change (the worker then
starts a fresh poller). A stop request is honoured between messages: the current message is
finished first. The lease is released on the way out.
"""

from __future__ import annotations

import logging
import threading
from typing import Final

from hubdesk.channels.imap import leases, status
from hubdesk.channels.imap import poll as imap_poll
from hubdesk.channels.imap.client import ImapConnection, ImapError
from hubdesk.channels.imap.leases import Lease
from hubdesk.channels.imap.poll import PollReport
from hubdesk.channels.imap.status import LeaseLost, MailboxView
from hubdesk.channels.tls import client_context
from hubdesk.errors import (
    ConfigError,
    DatabaseUnavailable,
    HubdeskError,
    StorageError,
    StorageUnavailable,
)
from hubdesk.mailboxes import secrets
from hubdesk.runtime import Runtime

log = logging.getLogger(__name__)

FIRST_PAUSE: Final = 1.0


def poll_once(runtime: Runtime, view: MailboxView, holder: str, lease: Lease) -> PollReport:
    """Connect, poll the folder once, record the outcome on the mailbox, disconnect."""
    try:
        connection = _connect(runtime, view)
        try:
            report = imap_poll.poll(runtime, view, connection, holder, lease.ok)
        finally:
            connection.close()
    except (ImapError, ConfigError) as exc:
        status.record_error(runtime.db, view.id, str(exc))
        raise
    _record(runtime, view, report)
    return report


def _connect(runtime: Runtime, view: MailboxView) -> ImapConnection:
    settings = runtime.settings
    password = secrets.resolve(view.password_env, settings)
    connection = ImapConnection.open(
        view.target, password, client_context(settings.imap_ca_file), settings.imap_timeout
    )
    try:
        for folder in (view.processed_folder, view.oversized_folder):
            if folder:
                connection.ensure_folder(folder)
    except ImapError:
        connection.close()
        raise
    return connection


def _record(runtime: Runtime, view: MailboxView, report: PollReport) -> None:
    if report.skipped:
        status.record_error(runtime.db, view.id, "; ".join(report.skipped))
    else:
        status.record_success(runtime.db, view)


class MailboxPoller(threading.Thread):
    """Polls one mailbox until `stop` is set or it has no reason to go on."""

    def __init__(
        self,
        runtime: Runtime,
        mailbox_id: int,
        holder: str,
        lease: Lease,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"imap-{mailbox_id}", daemon=True)
        self.runtime, self.mailbox_id, self.holder = runtime, mailbox_id, holder
        self.lease, self.stop = lease, stop
        self._pause = FIRST_PAUSE

    def keep_going(self) -> bool:
        return not self.stop.is_set() and self.lease.ok()

    def run(self) -> None:
        try:
            self._loop()
        except Exception:
            log.exception("the poller of mailbox %s failed", self.mailbox_id)
        finally:
            try:
                leases.release(self.runtime.db, [self.mailbox_id], self.holder)
            except HubdeskError as exc:
                log.warning("mailbox %s: lease not released: %s", self.mailbox_id, exc)

    def _loop(self) -> None:
        interval = self.runtime.settings.imap_poll_interval
        while self.keep_going():
            try:
                view = status.load(self.runtime.db, self.mailbox_id)
                if view is None:
                    return
                self._session(view)
                return
            except (ImapError, ConfigError) as exc:
                log.warning("mailbox %s: %s", self.mailbox_id, exc)
                _record_error(self.runtime, self.mailbox_id, str(exc))
            except (OSError, StorageError, StorageUnavailable) as exc:
                # The blob store could not keep a message (a full disk, an object store that
                # is down): nothing was acknowledged, so the message is fetched again.
                log.error("mailbox %s: cannot store mail: %s", self.mailbox_id, exc)
                _record_error(self.runtime, self.mailbox_id, f"cannot store mail: {exc}")
            except DatabaseUnavailable as exc:
                log.warning("mailbox %s: %s; retrying", self.mailbox_id, exc)
            except LeaseLost as exc:
                log.info("%s", exc)
                return
            self.stop.wait(self._pause)
            self._pause = min(self._pause * 2, max(interval, FIRST_PAUSE))

    def _session(self, first: MailboxView) -> None:
        """One connection: poll and wait until the account changes or we must stop."""
        connection = _connect(self.runtime, first)
        try:
            view: MailboxView | None = first
            while view is not None and self.keep_going():
                report = imap_poll.poll(
                    self.runtime, view, connection, self.holder, self.keep_going
                )
                _record(self.runtime, view, report)
                self._pause = FIRST_PAUSE
                if report.fetched or report.oversized or report.recognised:
                    log.info(
                        "mailbox %s: %d fetched, %d oversized, %d recognised, %d skipped",
                        view.name,
                        report.fetched,
                        report.oversized,
                        report.recognised,
                        len(report.skipped),
                    )
                connection.wait(self.runtime.settings.imap_poll_interval, self.keep_going)
                view = status.load(self.runtime.db, self.mailbox_id)
                if view is not None and view.account != first.account:
                    return
        finally:
            connection.close()


def _record_error(runtime: Runtime, mailbox_id: int, message: str) -> None:
    try:
        status.record_error(runtime.db, mailbox_id, message)
    except DatabaseUnavailable as exc:
        log.warning("mailbox %s: cannot record its error: %s", mailbox_id, exc)
