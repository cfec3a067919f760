"""IMAP when things go wrong: poison messages, a UIDVALIDITY change, bad credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from hubdesk.audit.models import AuditEntry
from hubdesk.channels.imap import leases
from hubdesk.channels.imap import status as mailbox_status
from hubdesk.channels.imap.client import ImapError
from hubdesk.channels.imap.poller import poll_once
from hubdesk.config import Settings
from hubdesk.errors import DatabaseUnavailable
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from hubdesk.web.app import create_app
from tests.e2e.channels.world import (
    PASSWORD_VARIABLE,
    add_mailbox,
    channel_settings,
    deliver,
    fetched_body_bytes,
    flags,
    ledger,
    poll,
    ticket_subjects,
    write_secrets,
)
from tests.integration.channels.relay import TcpRelay
from tests.support.api import make_user
from tests.support.dovecot import Dovecot, ImapAccount
from tests.support.factories import stored_raw
from tests.support.mail import deeply_nested, raw_mail
from tests.support.tls import Certificates

pytestmark = pytest.mark.e2e

HEADER_BOMB = (
    b"From: bomb@example.com\r\nSubject: "
    + b"x" * 70_000
    + b"\r\nMessage-ID: <bomb@example.com>\r\n\r\nbody\r\n"
)
OPEN_QUOTE = (
    b'From: quote@example.com\r\nTo: "\r\nSubject: Open quote\r\n'
    b"Message-ID: <q@example.com>\r\n\r\nbody\r\n"
)


def test_poison_messages_do_not_block_the_ones_after_them(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """T02: [good1, 'To: "', deep nesting, header bomb, good2, good3] in one poll: the good
    ones become tickets in order, both poisons are quarantined with their raw bytes and a
    reason, every message is acknowledged, and the next poll retries nothing."""
    deep = deeply_nested(60, tag="poison")
    deliver(
        dovecot,
        account,
        raw_mail(subject="Good 1"),
        OPEN_QUOTE,
        deep,
        HEADER_BOMB,
        raw_mail(subject="Good 2"),
        raw_mail(subject="Good 3"),
    )
    mailbox_id = add_mailbox(imap_runtime, dovecot.url(account))
    report = poll(imap_runtime, mailbox_id)
    assert (report.fetched, report.acknowledged, report.skipped) == (6, 6, [])
    subjects = ticket_subjects(imap_runtime)
    assert [s for s in subjects if s.startswith("Good")] == ["Good 1", "Good 2", "Good 3"]
    rows = ledger(imap_runtime)
    quarantined = [row for row in rows if row.status == "quarantined"]
    assert sorted(row.reason.split(":")[0] for row in quarantined) == ["header_size", "mime_depth"]
    assert {stored_raw(imap_runtime, row.id) for row in quarantined} == {deep, HEADER_BOMB}
    assert all(flag == {"\\Seen"} for flag in flags(dovecot, account).values())
    again = poll(imap_runtime, mailbox_id)
    assert (again.fetched, again.recognised) == (0, 0)
    assert len(ledger(imap_runtime)) == 6


@pytest.mark.parametrize("how", ["doveadm", "recreated folder"])
def test_uidvalidity_change_resyncs_without_reimport(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount, how: str
) -> None:
    """When the folder's UIDVALIDITY changes, messages already in the ledger are recognised
    by Message-ID and size (only that header field is read, no body) and left alone; only the
    new message is fetched; the checkpoint moves to the new UIDVALIDITY."""
    old = [raw_mail(subject="Old 1"), raw_mail(subject="Old 2")]
    with dovecot.client(account) as client:
        client.create("Support")
    deliver(dovecot, account, *old, folder="Support")
    mailbox_id = add_mailbox(imap_runtime, dovecot.url(account, folder="Support"))
    first = poll(imap_runtime, mailbox_id)
    assert first.fetched == 2
    body_bytes = fetched_body_bytes(dovecot, account)
    if how == "doveadm":
        dovecot.doveadm("mailbox", "update", "-u", account.user, "--uid-validity", "7", "Support")
    else:
        with dovecot.client(account) as client:
            assert client.rename("Support", "Support-old")[0] == "OK"
            assert client.create("Support")[0] == "OK"
        deliver(dovecot, account, *old, folder="Support")
    new = raw_mail(subject="New after resync")
    deliver(dovecot, account, new, folder="Support")
    second = poll(imap_runtime, mailbox_id)
    assert second.resync
    assert second.uidvalidity != first.uidvalidity
    assert (second.fetched, second.recognised) == (1, 0)
    assert fetched_body_bytes(dovecot, account) - body_bytes == len(new)
    assert ticket_subjects(imap_runtime) == ["Old 1", "Old 2", "New after resync"]
    assert len(ledger(imap_runtime)) == 3
    with imap_runtime.db.transaction(write=False) as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        assert (mailbox.uidvalidity, mailbox.last_uid) == (second.uidvalidity, 3)
    assert poll(imap_runtime, mailbox_id).fetched == 0


def test_bad_credentials_show_on_the_mailbox_and_in_health(
    imap_runtime: Runtime,
    dovecot: Dovecot,
    account: ImapAccount,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A refused login puts the mailbox in state error with the server's words, audited,
    and health turns degraded (still 200, the reason shown to admins only); another mailbox
    keeps importing; the wrong password appears nowhere: not in the mailbox row, the audit,
    the API or the logs."""
    wrong = "not-the-password-4711"
    secrets_file = write_secrets(
        tmp_path / "more-secrets", **{PASSWORD_VARIABLE: account.password, "WRONG": wrong}
    )
    runtime = Runtime.build(imap_runtime.settings.model_copy(update={"secrets_file": secrets_file}))
    try:
        broken = add_mailbox(runtime, dovecot.url(account), name="broken", password_env="WRONG")
        working = add_mailbox(runtime, dovecot.url(account, folder="INBOX"), name="working")
        deliver(dovecot, account, raw_mail(subject="Still flows"))
        with pytest.raises(ImapError, match="AUTHENTICATIONFAILED"):
            poll(runtime, broken)
        assert poll(runtime, working).fetched == 1
        assert ticket_subjects(runtime) == ["Still flows"]
        with runtime.db.transaction(write=False) as session:
            mailbox = session.get(Mailbox, broken)
            assert mailbox is not None
            assert mailbox.state == "error"
            last_error = mailbox.last_error or ""
            assert "[AUTHENTICATIONFAILED] Authentication failed." in last_error
            assert mailbox.last_error_at is not None
            audit = session.scalars(
                select(AuditEntry).where(
                    AuditEntry.entity_type == "mailbox", AuditEntry.action == "state_changed"
                )
            ).all()
            assert [(a.entity_id, a.changes["state"]) for a in audit] == [
                (broken, ["unknown", "error"])
            ]
            assert all(wrong not in str(a.changes) for a in audit)
        admin = {"Authorization": f"Bearer {make_user(runtime, ['admins'])[1]}"}
        with TestClient(create_app(runtime.settings, runtime=runtime)) as client:
            response = client.get("/api/v1/health", headers=admin)
            anonymous = client.get("/api/v1/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert any("broken" in p and "AUTHENTICATIONFAILED" in p for p in body["problems"])
        assert wrong not in response.text
        assert anonymous.json() == {"status": "degraded", "database": "ok"}
        assert wrong not in caplog.text
        assert wrong not in last_error
    finally:
        runtime.close()


def test_a_missing_secret_is_named_not_guessed(
    imap_runtime: Runtime, dovecot: Dovecot, account: ImapAccount
) -> None:
    """A password variable set nowhere: the mailbox's error names the variable and where
    hubdesk looked, and no connection is attempted."""
    mailbox_id = add_mailbox(imap_runtime, dovecot.url(account), password_env="NOT_SET_ANYWHERE")
    with pytest.raises(Exception, match="NOT_SET_ANYWHERE"):
        poll(imap_runtime, mailbox_id)
    with imap_runtime.db.transaction(write=False) as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        assert mailbox.state == "error"
        assert "the secret NOT_SET_ANYWHERE is not set" in (mailbox.last_error or "")
    assert not [line for line in dovecot.log_text().splitlines() if account.user in line]


def test_mail_waits_untouched_on_the_server_while_the_database_is_down(
    postgres_url: str,
    tmp_path: Path,
    certificates: Certificates,
    dovecot: Dovecot,
    account: ImapAccount,
) -> None:
    """T40: the database goes away (the relay in front of PostgreSQL is cut) just as a poll
    starts: the poll fails with DatabaseUnavailable, the message stays unread on the server
    and nothing is half-stored; after recovery it is imported exactly once."""
    url = make_url(postgres_url)
    relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432).start()
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    base = Settings(
        database_url=relayed,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = Runtime.build(channel_settings(base, tmp_path, certificates, account))
    try:
        mailbox_id = add_mailbox(runtime, dovecot.url(account))
        deliver(dovecot, account, raw_mail(subject="Waits for the database"))
        holder = leases.new_holder()
        lease = leases.take(runtime.db, mailbox_id, holder, 60)
        view = mailbox_status.load(runtime.db, mailbox_id)
        assert lease is not None
        assert view is not None
        relay.cut()
        with pytest.raises(DatabaseUnavailable):
            poll_once(runtime, view, holder, lease)
        assert flags(dovecot, account) == {1: set()}
        relay.restore()
        assert ledger(runtime) == []
        leases.release(runtime.db, [mailbox_id], holder)
        assert poll(runtime, mailbox_id).fetched == 1
        assert poll(runtime, mailbox_id).fetched == 0
        assert ticket_subjects(runtime) == ["Waits for the database"]
        assert flags(dovecot, account) == {1: {"\\Seen"}}
    finally:
        runtime.close()
        relay.cut()
