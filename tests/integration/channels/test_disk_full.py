"""T40, the disk-full and read-only cases: the data directory (SQLite database, WAL and
blobs) lives on a small tmpfs that is filled to the last byte while mail arrives over LMTP,
the HTTP raw-mail endpoint and `hubdesk ingest`. Each answers "try later" (452 4.3.1, 503
with Retry-After, exit 75), nothing is acknowledged or half-stored, and once space is freed
the same three messages are each ingested exactly once, none quarantined.

In the read-only case the same tmpfs is remounted read-only under the SQLite database (and
the blobs, or with the blobs elsewhere), the four entry points answer "try later" (451 from
LMTP and SMTP, 503, exit 75), and after it is writable again the running service, not
restarted, takes every message once.

The tmpfs is mounted by the test itself (this needs root, as CI has; elsewhere the test is
skipped, saying so).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hubdesk.web.app import create_app
from tests.integration.channels.conftest import StartReceiver
from tests.integration.channels.helpers import add_mailbox, count_tickets, ledger, settled, wait_for
from tests.integration.test_cli import hubdesk
from tests.support.api import make_user
from tests.support.databases import Templates
from tests.support.disks import remount
from tests.support.mail import raw_mail
from tests.support.smtp_peers import RawPeer

SUPPORT = "support@support.example.com"


def _fill(disk: Path) -> Path:
    """Write a filler file until the disk refuses another byte."""
    filler = disk / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                chunk = chunk[: len(chunk) // 2]
                if not chunk:
                    return filler


def _lmtp(port: int, raw: bytes) -> int:
    with RawPeer(port) as peer:
        assert peer.command(b"LHLO mx.example.com")[0] == 250
        assert peer.command(b"MAIL FROM:<customer@example.com>")[0] == 250
        assert peer.command(f"RCPT TO:<{SUPPORT}>".encode())[0] == 250
        assert peer.command(b"DATA")[0] == 354
        peer.send(raw.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") + b"\r\n.\r\n")
        return peer.reply()[0]


def test_a_full_disk_is_try_later_everywhere_and_nothing_is_lost(
    start_receiver: StartReceiver, small_disk: Path, templates: Templates, tmp_path: Path
) -> None:
    database = templates.sqlite_copy(small_disk / "hubdesk.db")
    receiver = start_receiver(database_url=database, data_dir=small_disk / "data")
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    _user, token = make_user(receiver.runtime, ["admins"])
    api = TestClient(create_app(receiver.runtime.settings, runtime=receiver.runtime))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    by_lmtp = raw_mail(subject="By LMTP on a full disk", to=SUPPORT, body="x" * 20_000)
    by_http = raw_mail(subject="By HTTP on a full disk", to=SUPPORT, body="y" * 20_000)
    by_cli = tmp_path / "by-cli.eml"
    by_cli.write_bytes(raw_mail(subject="By the CLI on a full disk", to=SUPPORT, body="z" * 20_000))
    cli_env = {"DATABASE_URL": database, "HUBDESK_DATA_DIR": str(small_disk / "data")}

    filler = _fill(small_disk)
    assert _lmtp(receiver.lmtp_port, by_lmtp) == 452
    answer = api.post("/api/v1/inbound/raw", content=by_http, headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"]
    assert "disk is full" in answer.json()["detail"]
    refused = hubdesk(tmp_path, "ingest", str(by_cli), **cli_env)
    assert refused.code == 75, (refused.code, refused.err)
    assert "disk is full" in refused.err or "unavailable" in refused.err
    os.unlink(filler)

    assert ledger(receiver.runtime) == []
    assert count_tickets(receiver.runtime) == 0

    assert _lmtp(receiver.lmtp_port, by_lmtp) == 250
    assert api.post("/api/v1/inbound/raw", content=by_http, headers=headers).status_code in (
        200,
        201,
        202,
    )
    accepted = hubdesk(tmp_path, "ingest", str(by_cli), **cli_env)
    assert accepted.code == 0, accepted.err
    wait_for(lambda: settled(receiver.runtime), "processing")
    rows = ledger(receiver.runtime)
    assert sorted(row.status for row in rows) == ["processed"] * 3, [
        (row.status, row.last_error) for row in rows
    ]
    assert count_tickets(receiver.runtime) == 3


def _deliver(port: int, raw: bytes, hello: bytes) -> int:
    """One delivery by LMTP (`LHLO`) or SMTP (`EHLO`): 250, or the first refusal (the
    recipient check reads the database, so a read-only database may answer at RCPT)."""
    with RawPeer(port) as peer:
        for line in (hello + b" mx.example.com", b"MAIL FROM:<customer@example.com>"):
            assert peer.command(line)[0] == 250
        for line in (f"RCPT TO:<{SUPPORT}>".encode(), b"DATA"):
            code = peer.command(line)[0]
            if code >= 400:
                return code
        peer.send(raw + b"\r\n.\r\n")
        return peer.reply()[0]


@pytest.mark.parametrize("blobs", ["blobs elsewhere", "blobs read-only too"])
def test_a_read_only_database_is_try_later_everywhere_and_resumes(
    start_receiver: StartReceiver,
    small_disk: Path,
    templates: Templates,
    tmp_path: Path,
    blobs: str,
) -> None:
    """The file system holding the SQLite database (and, in one case, the blobs) turns
    read-only while mail arrives by LMTP, SMTP, `POST /api/v1/inbound/raw` and `hubdesk
    ingest`: 451, 451, 503 with Retry-After and exit 75; nothing is stored. Once it is
    writable again the same service, not restarted, takes the same four messages, each
    once."""
    database = templates.sqlite_copy(small_disk / "hubdesk.db")
    data_dir = small_disk / "data" if blobs == "blobs read-only too" else tmp_path / "data"
    receiver = start_receiver(database_url=database, data_dir=data_dir)
    add_mailbox(receiver.runtime, "support", [SUPPORT])
    _user, token = make_user(receiver.runtime, ["admins"])
    api = TestClient(create_app(receiver.runtime.settings, runtime=receiver.runtime))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    by_lmtp = raw_mail(subject="By LMTP while read-only", to=SUPPORT)
    by_smtp = raw_mail(subject="By SMTP while read-only", to=SUPPORT)
    by_http = raw_mail(subject="By HTTP while read-only", to=SUPPORT)
    by_cli = tmp_path / "by-cli.eml"
    by_cli.write_bytes(raw_mail(subject="By the CLI while read-only", to=SUPPORT))
    cli_env = {"DATABASE_URL": database, "HUBDESK_DATA_DIR": str(data_dir)}
    assert ledger(receiver.runtime) == []  # the schema is read before the fault

    remount(small_disk, "ro", receiver.runtime)
    try:
        assert _deliver(receiver.lmtp_port, by_lmtp, b"LHLO") == 451
        assert _deliver(receiver.smtp_port, by_smtp, b"EHLO") == 451
        answer = api.post("/api/v1/inbound/raw", content=by_http, headers=headers)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"]
        refused = hubdesk(tmp_path, "ingest", str(by_cli), **cli_env)
        assert refused.code == 75, (refused.code, refused.err)
        assert "Traceback" not in refused.err
    finally:
        remount(small_disk, "rw", receiver.runtime)

    assert ledger(receiver.runtime) == []
    assert count_tickets(receiver.runtime) == 0
    assert _deliver(receiver.lmtp_port, by_lmtp, b"LHLO") == 250
    assert _deliver(receiver.smtp_port, by_smtp, b"EHLO") == 250
    accepted_http = api.post("/api/v1/inbound/raw", content=by_http, headers=headers)
    assert accepted_http.status_code in (200, 201, 202), accepted_http.text
    accepted = hubdesk(tmp_path, "ingest", str(by_cli), **cli_env)
    assert accepted.code == 0, accepted.err
    wait_for(lambda: settled(receiver.runtime), "processing")
    rows = ledger(receiver.runtime)
    assert sorted(row.status for row in rows) == ["processed"] * 4, [
        (row.status, row.last_error) for row in rows
    ]
    assert count_tickets(receiver.runtime) == 4
