"""An S3 server on loopback for the object-store tests: moto's standalone server (from PyPI),
started in this process on a free 127.0.0.1 port.

`stop()` is a real outage (the port refuses connections); `start()` brings it back on the
same port with the same buckets and objects (moto keeps its state in the process, so a
restart is an outage, not a wiped store). Each test gets a bucket of its own.
"""

from __future__ import annotations

import logging
import socket
import uuid
from typing import TYPE_CHECKING, Any

from hubdesk.config import Settings

if TYPE_CHECKING:  # boto3 and moto are imported by the tests that use them, not by every run
    from hubdesk.storage.s3 import S3BlobStore, S3Location

KEY_ID_VARIABLE = "MOTO_TEST_KEY_ID"
SECRET_VARIABLE = "MOTO_TEST_SECRET"
"""The variables that hold the (dummy) credentials, named by HUBDESK_BLOB_*_KEY_ENV."""
CREDENTIALS = {KEY_ID_VARIABLE: "testing-key-id", SECRET_VARIABLE: "testing-secret"}


class S3Server:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: Any = None
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is None:
            from moto.server import ThreadedMotoServer

            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
            self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def new_bucket(self) -> str:
        name = f"hubdesk-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def client(self) -> Any:
        from hubdesk.storage.s3 import make_client

        return make_client(self.location("unused"))

    def location(self, bucket: str, prefix: str = "") -> S3Location:
        from hubdesk.storage.s3 import S3Location

        return S3Location(
            bucket=bucket,
            prefix=prefix,
            endpoint=self.endpoint,
            region="us-east-1",
            access_key=CREDENTIALS[KEY_ID_VARIABLE],
            secret_key=CREDENTIALS[SECRET_VARIABLE],
        )

    def store(self, bucket: str | None = None, prefix: str = "mail/") -> S3BlobStore:
        from hubdesk.storage.s3 import S3BlobStore

        return S3BlobStore(self.location(bucket or self.new_bucket(), prefix))

    def changes(self, prefix: str = "mail") -> dict[str, str]:
        """The blob settings of a new bucket of this server (credentials by reference)."""
        return {
            "blob_url": f"s3://{self.new_bucket()}/{prefix}",
            "blob_endpoint": self.endpoint,
            "blob_region": "us-east-1",
            "blob_access_key_env": KEY_ID_VARIABLE,
            "blob_secret_key_env": SECRET_VARIABLE,
        }

    def settings(self, settings: Settings, prefix: str = "mail") -> Settings:
        """`settings` pointed at a new bucket of this server."""
        return settings.model_copy(update=self.changes(prefix))


def blob_environment(settings: Settings) -> dict[str, str]:
    """The blob settings as environment variables of a child process."""
    return {
        name: str(value)
        for name, value in (
            ("HUBDESK_BLOB_URL", settings.blob_url),
            ("HUBDESK_BLOB_ENDPOINT", settings.blob_endpoint),
            ("HUBDESK_BLOB_REGION", settings.blob_region),
            ("HUBDESK_BLOB_ACCESS_KEY_ENV", settings.blob_access_key_env),
            ("HUBDESK_BLOB_SECRET_KEY_ENV", settings.blob_secret_key_env),
        )
        if value is not None
    }
