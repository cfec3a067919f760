"""Which blob store a process uses: the local one under the data directory (the embedded
default), or the S3-compatible bucket `HUBDESK_BLOB_URL` names."""

from __future__ import annotations

from hubdesk.config import Settings
from hubdesk.storage.blobs import Blobs, BlobStore


def blob_store(settings: Settings) -> Blobs:
    """The store the settings choose (boto3 is imported only when a bucket is configured)."""
    if settings.blob_url is None:
        return BlobStore(settings.data_dir / "blobs")
    from hubdesk.storage.s3 import S3BlobStore, S3Location

    return S3BlobStore(S3Location.from_settings(settings))
