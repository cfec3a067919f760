"""A runtime and API with the workflow engine switched on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from hubdesk.runtime import Runtime
from hubdesk.web.app import create_app
from tests.support.api import Api


@pytest.fixture
def engine_runtime(runtime: Runtime) -> Runtime:
    return replace(
        runtime, settings=runtime.settings.model_copy(update={"email_workflows_enabled": True})
    )


@pytest.fixture
def engine_api(engine_runtime: Runtime) -> Iterator[Api]:
    app = create_app(engine_runtime.settings, runtime=engine_runtime)
    with TestClient(app) as client:
        yield Api(client=client, runtime=engine_runtime)
