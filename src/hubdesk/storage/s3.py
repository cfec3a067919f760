"""The S3-compatible blob store: raw mail and attachments in a bucket several machines share.

Chosen by `HUBDESK_BLOB_URL=s3://bucket/prefix` (with `HUBDESK_BLOB_ENDPOINT` for a store
that is not AWS, such as MinIO or Ceph). Objects are named like the local store's files,
`PREFIX/ab/cd/<sha256>`, and keep the same promises:

- An object is written and confirmed before `put`, `put_stream` or `sync_batch` returns:
  S3 answers a PUT (or the CompleteMultipartUpload of a large one) only once the object is
  stored, and the object appears whole or not at all, so a crash mid-upload never leaves a
  short object under a blob's name (at most an unfinished multipart upload, which `collect`
  aborts). Single PUTs carry their SHA-256 (`ChecksumSHA256`), which the store checks.
- Every `read` verifies the sha256 of what came back: a mismatch is `StorageError`, never
  served. A missing object is `StorageError` too.
- An outage, a refusal or throttling is `StorageUnavailable`: nothing was acknowledged, and
  every entry point answers "try later" (exit 75, 451, 503) as for a database outage.

Batch mode: `put` between `begin_batch` and `sync_batch` keeps the bytes in memory (reads of
a pending blob are served from there) and `sync_batch` uploads them together, a few at a
time, before the caller commits. `put_stream` spools the stream to an unlinked temporary
file (its name, the sha256, is known only at the end) and uploads it from there.

Credentials are never a setting's value: boto3's standard chain (`AWS_ACCESS_KEY_ID` /
`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, an instance role, ...), or the two variables named by
`HUBDESK_BLOB_ACCESS_KEY_ENV` and `HUBDESK_BLOB_SECRET_KEY_ENV`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, BinaryIO, Final

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hubdesk.config import Settings
from hubdesk.errors import ConfigError, StorageError, StorageUnavailable

_HEX: Final = frozenset("0123456789abcdef")
_CHUNK: Final = 1 << 20
MULTIPART_FROM: Final = 16 * 1024 * 1024
"""A streamed blob at least this large is uploaded in parts (appears at the last one)."""
_UPLOADS_AT_ONCE: Final = 8
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})


@dataclass(frozen=True)
class S3Location:
    """Where the blobs go and how to reach the store; the secret is never shown."""

    bucket: str
    prefix: str
    """'' or ending in '/'."""
    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> S3Location:
        """The location `HUBDESK_BLOB_URL` names, with the credentials its `*_ENV` settings
        point at (`ConfigError` naming the setting when a named variable is not set)."""
        if settings.blob_url is None:
            raise ConfigError("Setting HUBDESK_BLOB_URL is not set: there is no object store")
        environment = os.environ if environ is None else environ
        bucket, _slash, prefix = settings.blob_url.removeprefix("s3://").partition("/")
        keys: list[str | None] = []
        for setting, name in (
            ("HUBDESK_BLOB_ACCESS_KEY_ENV", settings.blob_access_key_env),
            ("HUBDESK_BLOB_SECRET_KEY_ENV", settings.blob_secret_key_env),
        ):
            if name is not None and not environment.get(name):
                raise ConfigError(
                    f"Setting {setting} names the variable {name}, which is not set in the "
                    "environment; set it or unset the setting to use the AWS credential chain"
                )
            keys.append(environment[name] if name is not None else None)
        return cls(
            bucket=bucket,
            prefix=f"{prefix.strip('/')}/" if prefix.strip("/") else "",
            endpoint=settings.blob_endpoint,
            region=settings.blob_region,
            access_key=keys[0],
            secret_key=keys[1],
        )

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}"
        return f"{where} at {self.endpoint}" if self.endpoint else where


def make_client(location: S3Location) -> Any:
    """A boto3 S3 client for `location` (thread-safe; one per store and its detached ones)."""
    session = boto3.session.Session(
        aws_access_key_id=location.access_key,
        aws_secret_access_key=location.secret_key,
        region_name=location.region,
    )
    config = Config(
        region_name=location.region or session.region_name or "us-east-1",
        # A store at its own address (MinIO, Ceph, moto) is addressed by path, not by a
        # bucket sub-domain that its DNS does not have.
        s3={"addressing_style": "path"} if location.endpoint else {},
        retries={"total_max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=_UPLOADS_AT_ONCE + 2,
    )
    return session.client("s3", endpoint_url=location.endpoint, config=config)


class S3BlobStore:
    """Content-addressed blobs in an S3 bucket; the same interface as `BlobStore`."""

    def __init__(self, location: S3Location, client: Any | None = None) -> None:
        self.location = location
        self._client = client if client is not None else make_client(location)
        self._pending: dict[str, bytes] | None = None
        """Batch mode: digest -> bytes, put but not uploaded yet."""

    def describe(self) -> str:
        return self.location.describe()

    def close(self) -> None:
        """Close the client's pooled connections to the object store (shared with the
        stores `detached` from this one)."""
        self._client.close()

    def detached(self) -> S3BlobStore:
        return S3BlobStore(self.location, self._client)

    def key_for(self, sha256: str) -> str:
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            raise StorageError(f"not a sha256 digest: {sha256!r}")
        return f"{self.location.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def put(self, data: bytes) -> str:
        """Store `data`; returns its sha256 once the store confirmed the object (in batch
        mode: at once, and the upload happens at `sync_batch`)."""
        digest = hashlib.sha256(data).hexdigest()
        if self._pending is not None:
            self._pending.setdefault(digest, data)
            return digest
        self._upload(digest, data)
        return digest

    def begin_batch(self) -> None:
        self._pending = {}

    def sync_batch(self) -> int:
        """Upload every blob `put` since `begin_batch`; returns how many. Raises
        `StorageUnavailable` when the store refuses: nothing of the batch may be
        acknowledged then. Stays in batch mode."""
        pending = self._pending or {}
        if len(pending) > 1:
            with ThreadPoolExecutor(min(_UPLOADS_AT_ONCE, len(pending))) as pool:
                # list(): every upload's result, so the first failure is raised here.
                list(pool.map(lambda item: self._upload(*item), pending.items()))
        else:
            for digest, data in pending.items():
                self._upload(digest, data)
        self._pending = {}
        return len(pending)

    def end_batch(self) -> None:
        """Leave batch mode; blobs never synced were never uploaded."""
        self._pending = None

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, int]:
        """Store a stream without holding it in memory; returns (sha256, size)."""
        hasher = hashlib.sha256()
        size = 0
        with tempfile.TemporaryFile() as spool:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise StorageError(f"the file is larger than {max_bytes} bytes")
                hasher.update(chunk)
                spool.write(chunk)
            digest = hasher.hexdigest()
            spool.seek(0)
            if size < MULTIPART_FROM:
                self._upload(digest, spool.read(), sha256=hasher.digest())
            else:
                self._upload_parts(digest, spool)
        return digest, size

    def read(self, sha256: str) -> bytes:
        """The blob's bytes, verified; `StorageError` when missing or corrupt."""
        key = self.key_for(sha256)
        if self._pending is not None and sha256 in self._pending:
            return self._pending[sha256]
        try:
            with self._calls("read", sha256):
                data: bytes = self._client.get_object(Bucket=self.location.bucket, Key=key)[
                    "Body"
                ].read()
        except _Missing:
            raise StorageError(f"blob {sha256} is missing from the store") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StorageError(f"blob {sha256} does not match its sha256 (corrupt)")
        return data

    def exists(self, sha256: str) -> bool:
        if self._pending is not None and sha256 in self._pending:
            return True
        try:
            with self._calls("look up", sha256):
                self._client.head_object(Bucket=self.location.bucket, Key=self.key_for(sha256))
        except _Missing:
            return False
        return True

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(_Missing), self._calls("delete", sha256):
            self._client.delete_object(Bucket=self.location.bucket, Key=self.key_for(sha256))

    def all_digests(self) -> Iterable[str]:
        for key, _modified in self._objects():
            digest = self._digest_of(key)
            if digest is not None:
                yield digest

    def collect(self, referenced: set[str], *, older_than_seconds: float = 3600) -> list[str]:
        """Delete objects no row references and abort unfinished multipart uploads (what a
        crash mid-upload leaves), both only when older than `older_than_seconds`; returns
        the digests and the keys of the aborted uploads."""
        cutoff = time.time() - older_than_seconds
        removed: list[str] = []
        for key, modified in list(self._objects()):
            digest = self._digest_of(key)
            if digest is None or digest in referenced or modified.timestamp() >= cutoff:
                continue
            # The listing may be minutes old on a large bucket: the same bytes stored again
            # since (an MTA's retry of a crashed delivery) are young again and kept.
            if not self._still_older(key, cutoff):
                continue
            self.delete(digest)
            removed.append(digest)
        for key, upload_id, initiated in list(self._uploads()):
            if initiated.timestamp() >= cutoff:
                continue
            with self._calls("abort an upload", key):
                self._client.abort_multipart_upload(
                    Bucket=self.location.bucket, Key=key, UploadId=upload_id
                )
            removed.append(key)
        return removed

    def _upload(self, digest: str, data: bytes, sha256: bytes | None = None) -> None:
        checksum = base64.b64encode(sha256 or hashlib.sha256(data).digest()).decode("ascii")
        with self._calls("store", digest):
            self._client.put_object(
                Bucket=self.location.bucket,
                Key=self.key_for(digest),
                Body=data,
                ContentType="application/octet-stream",
                ChecksumSHA256=checksum,
            )

    def _upload_parts(self, digest: str, spool: IO[bytes]) -> None:
        transfer = TransferConfig(
            multipart_threshold=MULTIPART_FROM, multipart_chunksize=MULTIPART_FROM
        )
        with self._calls("store", digest):
            self._client.upload_fileobj(
                spool,
                self.location.bucket,
                self.key_for(digest),
                ExtraArgs={"ContentType": "application/octet-stream"},
                Config=transfer,
            )

    def _still_older(self, key: str, cutoff: float) -> bool:
        """Whether the object is there and was last written before `cutoff`, asked now."""
        try:
            with self._calls("look up", key):
                head = self._client.head_object(Bucket=self.location.bucket, Key=key)
        except _Missing:
            return False
        modified: datetime = head["LastModified"]
        return modified.timestamp() < cutoff

    def _objects(self) -> Iterator[tuple[str, datetime]]:
        paginator = self._client.get_paginator("list_objects_v2")
        with self._calls("list", self.location.prefix or "/"):
            for page in paginator.paginate(
                Bucket=self.location.bucket, Prefix=self.location.prefix
            ):
                for item in page.get("Contents", ()):
                    yield item["Key"], item["LastModified"]

    def _uploads(self) -> Iterator[tuple[str, str, datetime]]:
        paginator = self._client.get_paginator("list_multipart_uploads")
        with self._calls("list uploads", self.location.prefix or "/"):
            for page in paginator.paginate(
                Bucket=self.location.bucket, Prefix=self.location.prefix
            ):
                for item in page.get("Uploads", ()):
                    yield item["Key"], item["UploadId"], item["Initiated"]

    def _digest_of(self, key: str) -> str | None:
        """The digest a key holds, or None for an object that is not one of our blobs."""
        digest = key.removeprefix(self.location.prefix).rpartition("/")[2]
        if len(digest) != 64 or not set(digest) <= _HEX or self.key_for(digest) != key:
            return None
        return digest

    @contextmanager
    def _calls(self, what: str, name: str) -> Iterator[None]:
        """Store errors as hubdesk errors: a missing object is `_Missing` (the caller
        decides), anything else the store or the network says is `StorageUnavailable`."""
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in _MISSING:
                raise _Missing(name) from None
            raise StorageUnavailable(
                f"the object store {self.describe()} refused to {what} {name} "
                f"({code or 'error'}: {error.get('Message') or exc}); try again later"
            ) from exc
        except (BotoCoreError, Boto3Error, OSError) as exc:
            raise StorageUnavailable(
                f"the object store {self.describe()} cannot {what} {name} now ({exc}); "
                "try again later"
            ) from exc


class _Missing(Exception):
    """The object is not in the bucket (404)."""
