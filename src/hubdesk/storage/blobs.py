"""The content-addressed blob store under the data directory (attachments and raw mail).

A blob's name is the sha256 of its bytes: `blobs/ab/cd/abcd...`. Writing goes to a temporary
file in the same directory, is fsynced, and is renamed into place, so a reader never sees a
short blob and a crash leaves at most an orphan temporary file (collected by `collect`).
Every read verifies the sha256. Files are 0600 and directories 0700 whatever the umask.

Batch mode (the bulk ingest's group commit): between `begin_batch` and `sync_batch`, `put`
keeps each new blob's bytes in memory (reads of a pending blob are served from there).
`sync_batch` is the batch's one durability point: every pending blob is written to a
temporary file, the files are flushed to disk (one `syncfs` of the store's file system for
a batch of 16 or more where the platform has it, else one fsync per file), only then
renamed into place, and the touched directories are flushed once each. A blob therefore
never appears under its final name before its bytes are on disk, and the caller commits its
database rows only after `sync_batch` returned. The bulk path runs `sync_batch` in a thread
of its own while it writes the batch's rows, so the files are written there rather than
one by one as the batch's messages run (3.5 % of the ingesting thread's time before,
`bench/README.md`). `end_batch` drops temporary files a failed batch left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from hubdesk.errors import StorageError

_CHUNK: Final = 1 << 20
_TEMP_PREFIX: Final = ".tmp-"
_HEX: Final = frozenset("0123456789abcdef")
_SYNCFS_FROM: Final = 16
"""A batch of at least this many new blobs is flushed with one `syncfs`, fewer one by one."""


class Blobs(Protocol):
    """What every blob store offers: this local one (`BlobStore`) and the S3-compatible one
    (`hubdesk.storage.s3.S3BlobStore`). Both name a blob by its sha256, write it whole before
    `put`/`put_stream`/`sync_batch` return (a reader never sees part of one), and verify the
    sha256 on every `read` (a mismatch raises `StorageError`, never returns bytes)."""

    def put(self, data: bytes) -> str: ...
    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, int]: ...
    def read(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...
    def delete(self, sha256: str) -> None: ...
    def all_digests(self) -> Iterable[str]: ...
    def collect(self, referenced: set[str], *, older_than_seconds: float = 3600) -> list[str]: ...
    def begin_batch(self) -> None: ...
    def sync_batch(self) -> int: ...
    def end_batch(self) -> None: ...
    def detached(self) -> Blobs:
        """A new store object on the same storage with its own batch state (batch mode is
        per object; a thread that batches needs its own)."""
        ...

    def describe(self) -> str:
        """Where the blobs are, for messages and logs (never a credential)."""
        ...

    def close(self) -> None:
        """Release what the store holds open (an object store's connections); the store and
        the stores `detached` from it are not used after (`Runtime.close`)."""
        ...


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._pending: dict[str, tuple[str | None, bytes]] | None = None
        """Batch mode: digest -> (its temporary file once `sync_batch` wrote one, bytes)."""

    def detached(self) -> BlobStore:
        return BlobStore(self.root)

    def describe(self) -> str:
        return str(self.root)

    def close(self) -> None:
        """Nothing to release: every write opens and closes its own files."""

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            raise StorageError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store `data`; returns its sha256. Storing the same bytes twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest)
        if self._pending is not None and digest in self._pending:
            return digest
        if path.exists() and path.stat().st_size == len(data):
            # Fresh again: `collect` spares young blobs, and a row may name this one soon.
            with contextlib.suppress(OSError):
                os.utime(path)
            return digest
        if self._pending is not None:
            self._pending[digest] = (None, data)  # written and made durable by sync_batch
            return digest
        self._write(path, (data,))
        return digest

    def begin_batch(self) -> None:
        """Start batch mode: later `put`s become durable together at `sync_batch`."""
        self.end_batch()
        self._pending = {}

    def sync_batch(self) -> int:
        """Make every blob `put` since `begin_batch` durable; returns how many were new.

        Stays in batch mode (the next batch starts empty). Raises `OSError` when the disk
        refuses; then nothing of the batch may be acknowledged.
        """
        pending = self._pending or {}
        if not pending:
            return 0
        for digest, (temp, data) in pending.items():
            if temp is None:  # recorded at once, so that end_batch removes it on a failure
                pending[digest] = (self._write_temp(self.path_for(digest), data), data)
        temps = [temp for temp, _data in pending.values() if temp is not None]
        # One syncfs also flushes whatever else is dirty on that file system: worth it for
        # a batch of files, not for the few of a one-message run.
        whole = len(pending) >= _SYNCFS_FROM
        if not (whole and _syncfs(self.root)):
            for temp in temps:
                _fsync_path(temp, os.O_RDONLY)
        directories = set()
        for digest, temp in zip(pending, temps, strict=True):
            path = self.path_for(digest)
            os.replace(temp, path)
            directories.add(path.parent)
        if not (whole and _syncfs(self.root)):
            for directory in directories:
                self._fsync_dir(directory)
        count = len(pending)
        self._pending = {}
        return count

    def end_batch(self) -> None:
        """Leave batch mode, deleting the temporary files of blobs never synced."""
        for temp, _data in (self._pending or {}).values():
            if temp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        self._pending = None

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, int]:
        """Store a stream without holding it in memory; returns (sha256, size)."""
        self._ensure_dir(self.root)
        hasher = hashlib.sha256()
        size = 0
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self.root)
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise StorageError(f"the file is larger than {max_bytes} bytes")
                    hasher.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            digest = hasher.hexdigest()
            path = self.path_for(digest)
            self._ensure_dir(path.parent)
            os.chmod(temp_name, 0o600)
            os.replace(temp_name, path)
            self._fsync_dir(path.parent)
            return digest, size
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)

    def read(self, sha256: str) -> bytes:
        """The blob's bytes, verified; `StorageError` when missing or corrupt."""
        path = self.path_for(sha256)
        if self._pending is not None and sha256 in self._pending:
            return self._pending[sha256][1]
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StorageError(f"blob {sha256} is missing from the store") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StorageError(f"blob {sha256} does not match its sha256 (corrupt)")
        return data

    def exists(self, sha256: str) -> bool:
        if self._pending is not None and sha256 in self._pending:
            return True
        return self.path_for(sha256).is_file()

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path_for(sha256).unlink()

    def all_digests(self) -> Iterable[str]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            # Only names that are digests: a stray file must not make `collect` fail for good.
            if path.is_file() and len(path.name) == 64 and set(path.name) <= _HEX:
                yield path.name

    def collect(self, referenced: set[str], *, older_than_seconds: float = 3600) -> list[str]:
        """Delete blobs no row references and stale temporary files; returns what went.

        Only files older than `older_than_seconds` go, so a blob written by a transaction
        that has not committed yet survives.
        """
        removed: list[str] = []
        cutoff = time.time() - older_than_seconds
        if not self.root.is_dir():
            return removed
        for path in self.root.rglob(f"{_TEMP_PREFIX}*"):
            if _older(path, cutoff):
                path.unlink(missing_ok=True)
                removed.append(path.name)
        for digest in list(self.all_digests()):
            path = self.path_for(digest)
            if digest not in referenced and _older(path, cutoff):
                path.unlink(missing_ok=True)
                removed.append(digest)
        return removed

    def _write(self, path: Path, chunks: Iterable[bytes]) -> None:
        self._ensure_dir(path.parent)
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, 0o600)
            os.replace(temp_name, path)
            self._fsync_dir(path.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)

    def _write_temp(self, path: Path, data: bytes) -> str:
        """`data` in a 0600 temporary file beside `path`, not yet flushed to disk."""
        self._ensure_dir(path.parent)
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temp_name, 0o600)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        return temp_name

    def _ensure_dir(self, directory: Path) -> None:
        if directory.is_dir():
            return
        directory.mkdir(parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask; set it explicitly on what we created.
        current = directory
        while current != self.root.parent and current.is_relative_to(self.root):
            os.chmod(current, 0o700)
            current = current.parent

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def keep(blobs: Blobs, data: bytes, inline_max: int) -> tuple[str, bytes | None]:
    """Where a row's bytes go (HUBDESK_INLINE_MAX_BYTES): at most `inline_max` bytes are
    returned for the row to hold itself (durable with its commit, no file of its own), more
    are put in the store. Returns (sha256, the bytes the row holds or None)."""
    if len(data) <= inline_max:
        return hashlib.sha256(data).hexdigest(), data
    return blobs.put(data), None


def read_kept(blobs: Blobs, sha256: str, inline: bytes | None, corrupt: str) -> bytes:
    """The bytes `keep` kept: the row's own (`inline`) or the store's, checked against
    `sha256` either way; a mismatch raises `StorageError(corrupt)`, never returns them."""
    if inline is None:
        return blobs.read(sha256)
    if hashlib.sha256(inline).hexdigest() != sha256:
        raise StorageError(corrupt)
    return inline


def _fsync_path(path: str | Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_LIBC_NAME = ctypes.util.find_library("c")
_LIBC = ctypes.CDLL(_LIBC_NAME, use_errno=True) if _LIBC_NAME else None


def _syncfs(directory: Path) -> bool:
    """Flush the whole file system holding `directory` (Linux `syncfs`, one call for a
    batch of files); False where the platform has no `syncfs`, so the caller fsyncs each."""
    function = getattr(_LIBC, "syncfs", None)
    if function is None:
        return False
    fd = os.open(directory, os.O_RDONLY)
    try:
        if function(fd) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs of {directory}: {os.strerror(error)}")
    finally:
        os.close(fd)
    return True


def _older(path: Path, cutoff: float) -> bool:
    """Whether `path` was last written before `cutoff`; a file gone since it was listed (a
    temporary file renamed into place, a blob another worker purged) is not."""
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False
