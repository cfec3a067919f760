"""A receiver in this process on free loopback ports, in front of a fresh SQLite database
(`channel_settings` can be changed per test before the receiver starts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hubdesk.channels.worker import Listeners, Worker
from hubdesk.config import Settings
from hubdesk.runtime import Runtime
from tests.support.databases import Templates
from tests.support.disks import small_disk  # noqa: F401 (a fixture)


@dataclass
class Receiver:
    runtime: Runtime
    lmtp_port: int
    smtp_port: int


@pytest.fixture
def channel_settings(templates: Templates, tmp_path: Path) -> Settings:
    return Settings(
        database_url=templates.sqlite_copy(tmp_path / "hubdesk.db"),
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )


StartReceiver = Callable[..., Receiver]


@pytest.fixture
def start_receiver(channel_settings: Settings) -> Iterator[StartReceiver]:
    """Start the worker's LMTP and SMTP listeners (no IMAP, no periodic jobs) with these
    settings, changed by keyword; stopped after the test."""
    started: list[tuple[Worker, Runtime]] = []

    def start(**changes: Any) -> Receiver:
        runtime = Runtime.build(channel_settings.model_copy(update=changes))
        worker = Worker(runtime, Listeners("127.0.0.1", 0, 0), imap=False, jobs=())
        worker.start()
        started.append((worker, runtime))
        lmtp, smtp = worker.receivers
        return Receiver(runtime, lmtp.port, smtp.port)

    yield start
    for worker, runtime in started:
        worker.stop(grace=5)
        runtime.close()


@pytest.fixture
def postgres_url(templates: Templates) -> Iterator[str]:
    """A fresh PostgreSQL database. The tests that make the database go away mid-session
    need a database server to lose (a SQLite file cannot be unplugged)."""
    url = templates.postgres_copy()
    try:
        yield url
    finally:
        templates.drop_postgres(url)
