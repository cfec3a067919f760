"""A runtime whose outgoing mail goes to a real SMTP sink on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from hubdesk.outbox.sender import send_due
from hubdesk.runtime import Runtime
from tests.support.smtp_sink import Received, SinkHandler, smtp_sink
from tests.support.tls import Certificates, make_certificates


@dataclass
class Outgoing:
    runtime: Runtime
    sink: SinkHandler

    def send(self) -> list[Received]:
        """Run the sender once; returns what the sink received so far."""
        send_due(self.runtime)
        return self.sink.received

    def with_settings(self, **changes: Any) -> Outgoing:
        settings = self.runtime.settings.model_copy(update=changes)
        return Outgoing(replace(self.runtime, settings=settings), self.sink)


@pytest.fixture
def outgoing(runtime: Runtime) -> Iterator[Outgoing]:
    with smtp_sink() as (port, handler):
        settings = runtime.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"}
        )
        yield Outgoing(replace(runtime, settings=settings), handler)


@pytest.fixture(scope="session")
def outbox_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


def cert_paths(certificates: Certificates) -> dict[str, Path]:
    return {"cert": certificates.cert, "key": certificates.key}
