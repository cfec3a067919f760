"""The S3-compatible blob store against moto's server on loopback: what only an object store
has (unfinished multipart uploads, an unreachable server, credentials by reference) and how
start-up treats its settings. The promises it shares with the local store are tested for
both in `tests/unit/test_blobs.py`."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from hubdesk.config import Settings
from hubdesk.errors import ConfigError, StorageError, StorageUnavailable
from hubdesk.runtime import Runtime
from hubdesk.storage.s3 import MULTIPART_FROM, S3BlobStore, S3Location
from tests.integration.test_cli import hubdesk
from tests.support.databases import Templates
from tests.support.s3 import S3Server

HOUR = 3600


def test_collect_removes_old_orphans_and_unfinished_uploads_only(s3: S3Server) -> None:
    """collect deletes unreferenced blobs and aborts multipart uploads a crash left, once
    they are older than the grace period; it keeps referenced blobs, objects that are not
    blobs and everything outside the prefix. An unfinished upload is never served."""
    store = s3.store()
    bucket, client = store.location.bucket, store._client
    referenced = store.put(b"referenced")
    orphan = store.put(b"orphan")
    half = os.urandom(1024)
    half_digest = S3BlobStore(store.location, client).put(half)
    store.delete(half_digest)
    upload = client.create_multipart_upload(Bucket=bucket, Key=store.key_for(half_digest))
    client.upload_part(
        Bucket=bucket,
        Key=store.key_for(half_digest),
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=half[:512],
    )
    client.put_object(Bucket=bucket, Key="mail/README", Body=b"not a blob")
    client.put_object(Bucket=bucket, Key=f"elsewhere/{orphan}", Body=b"not ours")

    assert not store.exists(half_digest)
    with pytest.raises(StorageError, match="missing"):
        store.read(half_digest)
    # moto reports every multipart upload as initiated on 2010-11-10 (real S3 gives the
    # time), so the upload is old at once; the orphan blob is recent and stays.
    assert store.collect({referenced}, older_than_seconds=HOUR) == [store.key_for(half_digest)]
    assert sorted(store.all_digests()) == sorted([referenced, orphan])
    time.sleep(1.1)  # the store's clock has whole seconds
    assert store.collect({referenced}, older_than_seconds=0) == [orphan]
    assert list(store.all_digests()) == [referenced]
    assert store.read(referenced) == b"referenced"
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {"mail/README", f"elsewhere/{orphan}"} <= keys


def test_a_large_stream_goes_up_in_parts_and_reads_back_verified(s3: S3Server) -> None:
    """A stream over the multipart threshold is uploaded in parts and appears whole."""
    store = s3.store()
    data = os.urandom(MULTIPART_FROM + 4097)
    digest, size = store.put_stream(io.BytesIO(data))
    assert size == len(data)
    assert store.read(digest) == data
    assert (
        store._client.list_multipart_uploads(Bucket=store.location.bucket).get("Uploads", []) == []
    )


def test_an_unreachable_store_is_unavailable_not_missing_and_keeps_nothing(
    s3: S3Server,
) -> None:
    """With the server down, writing, reading and a batch's sync raise StorageUnavailable
    (try later), never StorageError (missing or corrupt); back up, nothing was half-kept."""
    store = s3.store()
    kept = store.put(b"stored before the outage")
    s3.stop()
    try:
        with pytest.raises(StorageUnavailable, match="try again later"):
            store.put(b"during the outage")
        with pytest.raises(StorageUnavailable):
            store.read(kept)
        with pytest.raises(StorageUnavailable):
            store.put_stream(io.BytesIO(b"streamed during the outage"))
        store.begin_batch()
        store.put(b"batched during the outage")
        with pytest.raises(StorageUnavailable):
            store.sync_batch()
        store.end_batch()
    finally:
        s3.start()
    assert list(store.all_digests()) == [kept]
    assert store.read(kept) == b"stored before the outage"


def test_a_missing_bucket_is_unavailable_with_its_name(s3: S3Server) -> None:
    """A bucket that does not exist (a typo, not yet created) refuses every write; the
    message names the bucket so that the operator can fix it."""
    store = S3BlobStore(s3.location("hubdesk-no-such-bucket", "mail/"))
    with pytest.raises(StorageUnavailable, match="hubdesk-no-such-bucket"):
        store.put(b"x")


def test_credentials_are_read_from_the_variables_the_settings_name(s3: S3Server) -> None:
    """HUBDESK_BLOB_ACCESS_KEY_ENV / _SECRET_KEY_ENV name variables; their values are used
    and never shown, and a named variable that is not set is a start-up error naming the
    setting."""
    settings = s3.settings(Settings(_env_file=None))  # type: ignore[call-arg]
    named = {"MOTO_TEST_KEY_ID": "key-id-value", "MOTO_TEST_SECRET": "secret-value"}
    location = S3Location.from_settings(settings, named)
    assert (location.access_key, location.secret_key) == ("key-id-value", "secret-value")
    assert "secret-value" not in repr(location)
    assert "secret-value" not in location.describe()
    with pytest.raises(ConfigError, match="HUBDESK_BLOB_SECRET_KEY_ENV names the variable"):
        S3Location.from_settings(settings, {"MOTO_TEST_KEY_ID": "id"})


def test_a_runtime_with_a_bucket_keeps_no_blob_on_the_local_disk(
    settings: Settings, s3: S3Server
) -> None:
    """The runtime uses the bucket HUBDESK_BLOB_URL names: a blob goes there, not into the
    data directory (both databases)."""
    runtime = Runtime.build(s3.settings(settings, prefix="prod/mail"))
    try:
        assert isinstance(runtime.blobs, S3BlobStore)
        digest = runtime.blobs.put(b"shared by every machine")
        assert runtime.blobs.key_for(digest).startswith("prod/mail/")
        assert runtime.blobs.detached().read(digest) == b"shared by every machine"
        assert not (settings.data_dir / "blobs").exists()
    finally:
        runtime.close()


def _pooled_connections(store: S3BlobStore) -> int:
    """The connection pools the store's boto3 client keeps open (moto's server closes each
    connection after its answer, so the sockets themselves cannot show it)."""
    return len(store._client._endpoint.http_session._manager.pools)


def test_closing_the_runtime_closes_the_object_stores_connections(
    settings: Settings, s3: S3Server
) -> None:
    """A runtime that is closed (the end of a CLI command, a worker's or the web app's
    shutdown) leaves no connection pool to the object store open."""
    runtime = Runtime.build(s3.settings(settings))
    store = runtime.blobs
    assert isinstance(store, S3BlobStore)
    digest = store.put(b"kept")
    assert store.detached().read(digest) == b"kept"
    assert _pooled_connections(store) == 1
    runtime.close()
    assert _pooled_connections(store) == 0


def test_start_up_stops_on_a_malformed_blob_url(tmp_path: Path, templates: Templates) -> None:
    """A malformed HUBDESK_BLOB_URL stops a command before it touches anything, with a
    sentence naming the setting (exit 2), and a URL holding credentials is refused without
    echoing the secret."""
    templates.sqlite_copy(tmp_path / "cli.db")
    bad = hubdesk(tmp_path, "ingest", "-", HUBDESK_BLOB_URL="s3:/bucket-without-host")
    assert bad.code == 2, bad.err
    assert "Setting HUBDESK_BLOB_URL is invalid" in bad.err
    leaked = hubdesk(
        tmp_path, "ingest", "-", HUBDESK_BLOB_URL="s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/mail"
    )
    assert leaked.code == 2, leaked.err
    assert "must not hold credentials" in leaked.err
    assert "wJalrXUtnFEMI" not in leaked.err


def test_collect_keeps_an_orphan_stored_again_after_the_listing(s3: S3Server) -> None:
    """An orphan's bytes stored again while collect works through an old listing (an MTA
    retrying the delivery that crashed) are young again: collect asks before deleting."""
    store = s3.store()
    again = store.put(b"the crashed delivery's mail")
    gone = store.put(b"a true orphan")
    time.sleep(2.2)  # the store's clock has whole seconds

    class Listing(S3BlobStore):
        def _objects(self):  # type: ignore[no-untyped-def]
            listed = list(super()._objects())
            store.put(b"the crashed delivery's mail")  # after the listing, before deletes
            yield from listed

    racing = Listing(store.location, store._client)
    assert racing.collect(set(), older_than_seconds=1.1) == [gone]
    assert store.read(again) == b"the crashed delivery's mail"
    assert not store.exists(gone)
