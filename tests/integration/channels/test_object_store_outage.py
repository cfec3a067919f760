"""The S3-compatible blob store goes down while mail arrives over LMTP, the HTTP raw-mail
endpoint and `hubdesk ingest` (moto's server on loopback, stopped by the test: the port
refuses connections). Each answers "try later" (451, 503 with Retry-After, exit 75), nothing
is acknowledged or half-stored, and once the server is back the same three messages are
each ingested exactly once, their raw bytes in the bucket (none on the local disk).

A second case stops the store after a message was acknowledged but before it was processed:
processing leaves it `received` (not failed, not quarantined) and finishes it later.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hubdesk.config import Settings
from hubdesk.errors import StorageUnavailable
from hubdesk.inbound.group_commit import GroupCommitter
from hubdesk.intake.pipeline import process
from hubdesk.runtime import Runtime
from hubdesk.storage.s3 import S3BlobStore
from hubdesk.web.app import create_app
from tests.integration.channels.conftest import StartReceiver
from tests.integration.channels.helpers import add_mailbox, count_tickets, ledger, settled, wait_for
from tests.integration.channels.test_disk_full import _lmtp
from tests.integration.test_cli import hubdesk
from tests.support.api import make_user
from tests.support.mail import raw_mail
from tests.support.s3 import S3Server, blob_environment

SUPPORT = "support@support.example.com"
_CREATED = (200, 201, 202)


def test_an_object_store_outage_is_try_later_everywhere_and_nothing_is_lost(
    start_receiver: StartReceiver, s3: S3Server, tmp_path: Path
) -> None:
    # every raw message in the bucket: none small enough to be kept in its ledger row,
    # which would not need the object store (HUBDESK_INLINE_MAX_BYTES)
    receiver = start_receiver(**s3.changes(), inline_max_bytes=0)
    runtime = receiver.runtime
    assert isinstance(runtime.blobs, S3BlobStore)
    add_mailbox(runtime, "support", [SUPPORT])
    _user, token = make_user(runtime, ["admins"])
    api = TestClient(create_app(runtime.settings, runtime=runtime))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "message/rfc822"}
    by_lmtp = raw_mail(subject="By LMTP while S3 is down", to=SUPPORT, body="x" * 20_000)
    by_http = raw_mail(subject="By HTTP while S3 is down", to=SUPPORT, body="y" * 20_000)
    by_cli = tmp_path / "by-cli.eml"
    by_cli.write_bytes(raw_mail(subject="By the CLI while S3 is down", to=SUPPORT, body="z"))
    cli_env = {
        "DATABASE_URL": runtime.settings.database_url,
        "HUBDESK_DATA_DIR": str(runtime.settings.data_dir),
        **blob_environment(runtime.settings),
        "HUBDESK_INLINE_MAX_BYTES": "0",
    }

    s3.stop()
    assert _lmtp(receiver.lmtp_port, by_lmtp) == 451
    answer = api.post("/api/v1/inbound/raw", content=by_http, headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"]
    assert "object store" in answer.json()["detail"]
    bucket = (runtime.settings.blob_url or "").removeprefix("s3://").split("/")[0]
    assert bucket
    assert bucket not in answer.text, "the bucket is for the log, not the caller"
    assert "127.0.0.1" not in answer.text, "the store's address is for the log, not the caller"
    refused = hubdesk(tmp_path, "ingest", str(by_cli), **cli_env)
    assert refused.code == 75, (refused.code, refused.err)
    assert "object store" in refused.err
    assert "try again later" in refused.err
    assert ledger(runtime) == []
    assert count_tickets(runtime) == 0

    s3.start()
    assert list(runtime.blobs.all_digests()) == [], "nothing half-stored in the bucket"
    assert _lmtp(receiver.lmtp_port, by_lmtp) == 250
    answer = api.post("/api/v1/inbound/raw", content=by_http, headers=headers)
    assert answer.status_code in _CREATED, answer.text
    accepted = hubdesk(tmp_path, "ingest", str(by_cli), **cli_env)
    assert accepted.code == 0, accepted.err
    wait_for(lambda: settled(runtime), "processing")
    rows = ledger(runtime)
    assert sorted(row.status for row in rows) == ["processed"] * 3, [
        (row.status, row.last_error) for row in rows
    ]
    assert count_tickets(runtime) == 3
    in_bucket = set(runtime.blobs.all_digests())
    for row in rows:
        assert row.raw_sha256 in in_bucket
        assert b"while S3 is down" in runtime.blobs.read(row.raw_sha256)
    assert not (runtime.settings.data_dir / "blobs").exists(), "no blob on the local disk"


def test_an_outage_between_acknowledgement_and_processing_leaves_the_message_for_later(
    settings: Settings, s3: S3Server
) -> None:
    """Both databases: the raw bytes are in the bucket and the ledger row committed; the
    store then goes away before processing reads them. Processing raises
    `StorageUnavailable` and leaves the row `received` (not failed, not quarantined); with
    the store back the same row is processed into one ticket."""
    runtime = Runtime.build(s3.settings(settings))
    try:
        add_mailbox(runtime, "support", [SUPPORT])
        raw = raw_mail(subject="Acknowledged, then S3 went away", to=SUPPORT, body="kept")
        row_id = GroupCommitter(runtime.db, runtime.blobs, window=0).receive(raw, source="lmtp")
        s3.stop()
        try:
            with pytest.raises(StorageUnavailable, match="try again later"):
                process(runtime, row_id)
        finally:
            s3.start()
        [row] = ledger(runtime)
        assert row.status == "received"
        assert count_tickets(runtime) == 0
        assert process(runtime, row_id).status == "created"
        assert [row.status for row in ledger(runtime)] == ["processed"]
        assert count_tickets(runtime) == 1
    finally:
        runtime.close()
