"""Fixtures of the UI's HTTP-level tests: the real app in-process, a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hubdesk.runtime import Runtime
from hubdesk.web.app import create_app
from tests.integration.ui.client import UiClient


@pytest.fixture
def ui(runtime: Runtime) -> Iterator[UiClient]:
    with TestClient(create_app(runtime.settings, runtime=runtime)) as client:
        yield UiClient(client=client, runtime=runtime)
