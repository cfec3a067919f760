"""The content-addressed blob store: named by sha256, verified on read, private on disk,
and garbage-collected without touching what is referenced, recent, or not ours.

The promises both stores keep (`any_store`: the local one and the S3-compatible one against
moto's server on loopback) are tested once for both; what only a directory has (file modes,
temporary files, `syncfs`) is tested on the local store.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubdesk.errors import StorageError
from hubdesk.storage.blobs import Blobs, BlobStore
from tests.support.s3 import S3Server

HOUR = 3600


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Blobs:
    if request.param == "local":
        return BlobStore(tmp_path / "blobs")
    server: S3Server = request.getfixturevalue("s3")
    return server.store()


def _stored(store: Blobs, digest: str) -> bytes | None:
    """The bytes under the blob's own name in the backing storage (not through `read`)."""
    if isinstance(store, BlobStore):
        path = store.path_for(digest)
        return path.read_bytes() if path.exists() else None
    from hubdesk.storage.s3 import S3BlobStore

    assert isinstance(store, S3BlobStore)
    client = store._client
    found = client.list_objects_v2(Bucket=store.location.bucket, Prefix=store.key_for(digest))
    if not found.get("Contents"):
        return None
    answer = client.get_object(Bucket=store.location.bucket, Key=store.key_for(digest))
    body: bytes = answer["Body"].read()
    return body


def _overwrite(store: Blobs, digest: str, data: bytes) -> None:
    """Change a stored blob's bytes behind the store's back (bit rot, a tampering admin)."""
    if isinstance(store, BlobStore):
        store.path_for(digest).write_bytes(data)
        return
    from hubdesk.storage.s3 import S3BlobStore

    assert isinstance(store, S3BlobStore)
    store._client.put_object(Bucket=store.location.bucket, Key=store.key_for(digest), Body=data)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Run with umask 000, the worst case for file modes."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_blob_is_named_by_its_sha256(any_store: Blobs) -> None:
    """put returns the sha256 and stores the bytes under ab/cd/<digest> (a file, or an object
    key under the prefix); read returns them; storing the same bytes again keeps one."""
    store = any_store
    data = b"Blaabaergroed \xc3\xa6\xc3\xb8\xc3\xa5\x00\xff"
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    if isinstance(store, BlobStore):
        assert (store.root / digest[:2] / digest[2:4] / digest).read_bytes() == data
    else:
        assert store.key_for(digest) == f"mail/{digest[:2]}/{digest[2:4]}/{digest}"
    assert _stored(store, digest) == data
    assert store.read(digest) == data
    assert store.exists(digest)
    assert store.put(data) == digest
    assert list(store.all_digests()) == [digest]


def test_streamed_blob_matches_and_respects_the_size_limit(any_store: Blobs) -> None:
    """put_stream stores a stream under the same name put would use and reports its size; a
    stream over max_bytes raises StorageError and leaves no blob behind."""
    store = any_store
    data = os.urandom(3 * (1 << 20) + 17)
    digest, size = store.put_stream(io.BytesIO(data))
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert store.read(digest) == data
    assert _stored(store, digest) == data
    before = sorted(store.all_digests())
    with pytest.raises(StorageError, match="larger than"):
        store.put_stream(io.BytesIO(b"x" * 2048), max_bytes=1024)
    assert sorted(store.all_digests()) == before
    if isinstance(store, BlobStore):
        assert not list(store.root.rglob(".tmp-*"))


def test_corrupt_or_missing_blob_raises(any_store: Blobs) -> None:
    """A blob whose stored bytes changed, a missing blob and a malformed name all raise
    StorageError instead of returning wrong bytes."""
    store = any_store
    digest = store.put(b"original")
    _overwrite(store, digest, b"tampered")
    with pytest.raises(StorageError, match="corrupt"):
        store.read(digest)
    store.delete(digest)
    assert not store.exists(digest)
    with pytest.raises(StorageError, match="missing"):
        store.read(digest)
    for bad in ("", "../../etc/passwd", "A" * 64, "g" * 64, digest[:63]):
        with pytest.raises(StorageError):
            store.read(bad)


def test_files_are_0600_and_directories_0700_even_with_umask_000(
    store: BlobStore, open_umask: None
) -> None:
    """Every file the store writes is 0600 and every directory it creates is 0700, whatever
    the process umask."""
    store.put(b"one")
    store.put_stream(io.BytesIO(b"two"))
    paths = [store.root, *store.root.rglob("*")]
    assert len(paths) > 4
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_collect_removes_only_old_unreferenced_blobs_and_stale_temporaries(
    store: BlobStore,
) -> None:
    """collect deletes unreferenced blobs and temporary files older than the grace period,
    and keeps referenced blobs, recent ones, and files that are not blobs."""
    kept_referenced = store.put(b"referenced")
    kept_recent = store.put(b"fresh, maybe not committed yet")
    removed_old = store.put(b"orphan")
    for digest in (kept_referenced, removed_old):
        _age(store.path_for(digest), 2 * HOUR)
    stale_temp = store.path_for(kept_referenced).parent / ".tmp-crashed"
    stale_temp.write_bytes(b"partial")
    _age(stale_temp, 2 * HOUR)
    fresh_temp = store.root / ".tmp-in-progress"
    fresh_temp.write_bytes(b"partial")
    foreign = store.root / "README"
    foreign.write_text("not a blob", encoding="utf-8")
    _age(foreign, 2 * HOUR)
    odd = store.root / "zz" / "zz" / ("z" * 64)
    odd.parent.mkdir(parents=True)
    odd.write_bytes(b"not a digest name")
    _age(odd, 2 * HOUR)

    removed = store.collect({kept_referenced}, older_than_seconds=HOUR)

    assert sorted(removed) == sorted([removed_old, ".tmp-crashed"])
    assert store.read(kept_referenced) == b"referenced"
    assert store.read(kept_recent) == b"fresh, maybe not committed yet"
    assert not store.exists(removed_old)
    assert not stale_temp.exists()
    assert fresh_temp.exists()
    assert foreign.exists()
    assert odd.exists()


def test_storing_an_old_blob_again_makes_it_young_for_collect(store: BlobStore) -> None:
    """A blob a crash left behind (old, unreferenced) that is stored again is about to be
    named by a row that has not committed yet: `put` refreshes it, so `collect` spares it."""
    digest = store.put(b"left by a crash, needed again")
    _age(store.path_for(digest), 2 * HOUR)
    assert store.put(b"left by a crash, needed again") == digest
    assert store.collect(set(), older_than_seconds=HOUR) == []
    assert store.read(digest) == b"left by a crash, needed again"


def test_collect_on_a_store_that_was_never_written(tmp_path: Path) -> None:
    """An empty or absent store collects nothing and does not fail."""
    assert BlobStore(tmp_path / "absent").collect(set()) == []
    assert list(BlobStore(tmp_path / "absent").all_digests()) == []


def test_a_batch_shows_no_blob_under_its_name_before_sync_on_either_store(
    any_store: Blobs,
) -> None:
    """In batch mode a blob is readable from memory at once, but is in the backing storage
    only after `sync_batch` (the batch's durability point)."""
    store = any_store
    store.begin_batch()
    digest = store.put(b"raw mail")
    assert store.put(b"raw mail") == digest
    assert _stored(store, digest) is None
    assert store.read(digest) == b"raw mail"
    assert store.exists(digest)
    assert store.sync_batch() == 1
    assert _stored(store, digest) == b"raw mail"
    store.end_batch()
    assert store.read(digest) == b"raw mail"


def test_a_batch_shows_no_blob_under_its_name_before_sync(
    store: BlobStore, open_umask: None
) -> None:
    """In batch mode a blob is readable from memory at once, but is written (to a temporary
    file) and appears under its final name only at `sync_batch` (the batch's durability
    point), 0600 like any other; storing the same bytes twice in a batch writes one file."""
    store.begin_batch()
    digest = store.put(b"raw mail")
    assert store.put(b"raw mail") == digest
    assert not store.path_for(digest).exists()
    assert store.read(digest) == b"raw mail"
    assert store.exists(digest)
    assert not [p for p in store.root.rglob("*") if p.is_file()]
    assert store.sync_batch() == 1
    assert stat.S_IMODE(store.path_for(digest).stat().st_mode) == 0o600
    assert not [p for p in store.root.rglob(".tmp-*") if p.is_file()]
    store.end_batch()
    assert store.read(digest) == b"raw mail"


def test_a_batch_that_never_synced_leaves_nothing(any_store: Blobs) -> None:
    """A failed batch (rolled back before `sync_batch`) leaves no blob and no temporary file."""
    store = any_store
    store.begin_batch()
    digest = store.put(b"never committed")
    store.end_batch()
    assert not store.exists(digest)
    assert list(store.all_digests()) == []
    if isinstance(store, BlobStore):
        assert not [p for p in store.root.rglob("*") if p.is_file()]


def test_a_sync_the_disk_refuses_halfway_leaves_nothing_after_the_batch(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sync_batch` writes the batch's files: when the disk refuses the second, it raises,
    nothing is under its final name, and `end_batch` removes the file it had written."""
    write = BlobStore._write_temp
    written: list[str] = []

    def second_refused(self: BlobStore, path: Path, data: bytes) -> str:
        if written:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(write(self, path, data))
        return written[-1]

    monkeypatch.setattr(BlobStore, "_write_temp", second_refused)
    store.begin_batch()
    digests = [store.put(b"first"), store.put(b"second")]
    with pytest.raises(OSError, match="No space left"):
        store.sync_batch()
    assert Path(written[0]).is_file()
    assert not any(store.path_for(digest).exists() for digest in digests)
    store.end_batch()
    assert not [p for p in store.root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("count", [1, 20])
def test_small_and_large_batches_both_end_durable_and_named(any_store: Blobs, count: int) -> None:
    """A small batch is flushed file by file, a large one with one file-system flush (on the
    object store: uploaded one by one, or several at a time); both end with every blob under
    its name and verified on read."""
    store = any_store
    store.begin_batch()
    digests = [store.put(f"message {i}".encode()) for i in range(count)]
    assert store.sync_batch() == count
    store.end_batch()
    for i, digest in enumerate(digests):
        assert _stored(store, digest) == f"message {i}".encode()
        assert store.read(digest) == f"message {i}".encode()
    assert sorted(store.all_digests()) == sorted(digests)


def test_collect_goes_on_when_a_listed_blob_vanishes(tmp_path: Path) -> None:
    """Another worker purges a blob between collect's listing and its look at the file:
    collect skips it and still removes the other orphans (it used to stop with an error)."""

    class Racing(BlobStore):
        def all_digests(self) -> Iterator[str]:
            for digest in list(super().all_digests()):
                if digest == purged:
                    self.path_for(digest).unlink()
                yield digest

    store = Racing(tmp_path / "blobs")
    purged = store.put(b"purged by another worker meanwhile")
    orphan = store.put(b"an orphan")
    for digest in (purged, orphan):
        os.utime(store.path_for(digest), (1, 1))
    assert store.collect(set()) == [orphan]
    assert not store.path_for(orphan).exists()
