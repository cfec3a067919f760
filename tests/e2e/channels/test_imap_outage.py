"""T40 on IMAP: the database fails in the middle of a poll, against a real Dovecot on loopback.

The fault strikes at the two moments that matter: right after the message's bytes came from
the server (nothing is in the ledger yet), and right after the ledger row was committed
(the message is stored, its processing is not). Two faults: PostgreSQL cut away (a relay in
front of it stops forwarding), and the file system under the SQLite database turning
read-only (the blobs elsewhere; a read-only blob store is in test_disk_full.py). Each time
the poll ends with "try later", the message stays on the server neither flagged nor
expunged (the mailbox deletes what it has processed, the harshest acknowledgement), and
once the database is back the next poll imports it exactly once: one ledger row, one
ticket, and only then is it expunged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from hubdesk.channels.imap import leases
from hubdesk.channels.imap import poll as imap_poll
from hubdesk.channels.imap import status as mailbox_status
from hubdesk.channels.imap.client import ImapConnection
from hubdesk.channels.imap.poller import poll_once
from hubdesk.config import Settings
from hubdesk.errors import DatabaseUnavailable
from hubdesk.runtime import Runtime
from tests.e2e.channels.world import (
    add_mailbox,
    channel_settings,
    deliver,
    flags,
    ledger,
    poll,
    ticket_subjects,
)
from tests.integration.channels.relay import TcpRelay
from tests.support.databases import Templates
from tests.support.disks import remount
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.mail import raw_mail
from tests.support.tls import Certificates

pytestmark = pytest.mark.e2e


@dataclass
class Outage:
    """A database and the means to take it away and give it back."""

    database_url: str
    begin: Callable[[Runtime], None]
    end: Callable[[Runtime], None]


@pytest.fixture(params=["postgresql cut", "sqlite read-only"])
def outage(request: pytest.FixtureRequest, templates: Templates) -> Iterator[Outage]:
    if request.param == "postgresql cut":
        postgres_url: str = request.getfixturevalue("postgres_url")
        url = make_url(postgres_url)
        relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432).start()
        relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        try:
            yield Outage(relayed, lambda _r: relay.cut(), lambda _r: relay.restore())
        finally:
            relay.cut()
        return
    disk: Path = request.getfixturevalue("small_disk")
    yield Outage(
        templates.sqlite_copy(disk / "hubdesk.db"),
        lambda runtime: remount(disk, "ro", runtime),
        lambda runtime: remount(disk, "rw", runtime),
    )


@pytest.mark.parametrize("moment", ["after the fetch", "after the ledger commit"])
def test_a_database_outage_mid_poll_leaves_the_mail_on_the_server(
    outage: Outage,
    moment: str,
    tmp_path: Path,
    certificates: Certificates,
    dovecot: Dovecot,
    account: ImapAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = Settings(
        database_url=outage.database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = Runtime.build(channel_settings(base, tmp_path, certificates, account))
    try:
        mailbox_id = add_mailbox(runtime, dovecot.url(account), processed_action="delete")
        deliver(dovecot, account, raw_mail(subject="Waits out the outage"))
        holder = leases.new_holder()
        lease = leases.take(runtime.db, mailbox_id, holder, 60)
        view = mailbox_status.load(runtime.db, mailbox_id)
        assert lease is not None
        assert view is not None
        struck: list[str] = []

        def strike(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                result = original(*args, **kwargs)
                if not struck:
                    struck.append(moment)
                    outage.begin(runtime)
                return result

            return wrapped

        if moment == "after the fetch":
            monkeypatch.setattr(ImapConnection, "fetch", strike(ImapConnection.fetch))
        else:
            monkeypatch.setattr(imap_poll, "_receive", strike(imap_poll._receive))
        try:
            with pytest.raises(DatabaseUnavailable):
                poll_once(runtime, view, holder, lease)
            assert struck == [moment]
            assert flags(dovecot, account) == {1: set()}  # not seen, not deleted, still there
        finally:
            outage.end(runtime)
        monkeypatch.undo()

        stored = ledger(runtime)
        if moment == "after the fetch":
            assert stored == []
        else:
            assert [row.status for row in stored] == ["received"]
        leases.release(runtime.db, [mailbox_id], holder)
        report = poll(runtime, mailbox_id)
        assert (report.fetched, report.recognised) == (
            (1, 0) if moment == "after the fetch" else (0, 1)
        )
        assert report.acknowledged == 1
        assert flags(dovecot, account) == {}  # processed, then expunged
        assert ticket_subjects(runtime) == ["Waits out the outage"]
        assert [row.status for row in ledger(runtime)] == ["processed"]
        assert poll(runtime, mailbox_id).fetched == 0
    finally:
        runtime.close()
