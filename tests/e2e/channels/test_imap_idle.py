"""The worker's IMAP poller in this process: with IDLE, new mail is imported as it arrives
rather than at the next poll interval, and a stop request ends the IDLE at once."""

from __future__ import annotations

import time

import pytest

from hubdesk.channels.worker import Listeners, Worker
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from tests.e2e.channels.processes import wait_for
from tests.e2e.channels.world import add_mailbox, deliver, flags, ticket_subjects
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.mail import raw_mail

pytestmark = pytest.mark.e2e


def test_idle_imports_new_mail_as_it_arrives(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """IMAP_POLL_INTERVAL is 5 minutes, yet a message delivered while the poller waits in
    IDLE is a ticket within seconds; stopping the worker takes well under a poll interval
    and gives the lease back."""
    runtime = Runtime.build(imap_runtime.settings.model_copy(update={"imap_poll_interval": 300}))
    mailbox_id = add_mailbox(runtime, dovecot.url(account))
    worker = Worker(runtime, Listeners("127.0.0.1", None, None), jobs=())
    worker.start()
    try:
        wait_for(lambda: _state(runtime, mailbox_id) == "ok", "the first poll")
        deliver(dovecot, account, raw_mail(subject="Pushed by IDLE"))
        # A deadline 5x shorter than the poll interval (generous for a busy machine): only
        # IDLE can meet it.
        wait_for(lambda: ticket_subjects(runtime) == ["Pushed by IDLE"], "the ticket", 60)
        wait_for(lambda: flags(dovecot, account) == {1: {"\\Seen"}}, "the ack", every=0.1)
    finally:
        stopping = time.monotonic()
        worker.stop(grace=10)
        stopped_in = time.monotonic() - stopping
        runtime.close()
    # Well under a poll interval (a generous fifth of it: a busy machine cannot reach it,
    # a worker that sleeps out the interval always does).
    assert stopped_in < runtime.settings.imap_poll_interval / 5
    with imap_runtime.db.transaction(write=False) as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        assert mailbox.lease_holder is None


def _state(runtime: Runtime, mailbox_id: int) -> str | None:
    with runtime.db.transaction(write=False) as session:
        mailbox = session.get(Mailbox, mailbox_id)
        return mailbox.state if mailbox is not None else None
