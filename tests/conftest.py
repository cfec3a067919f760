"""Fixtures every test layer shares: database kinds, settings, runtime, API clients.

Tests that take `db_kind` (directly or through `database_url`, `db`, `settings`, `runtime`,
`api`) run once on SQLite and once on PostgreSQL when PostgreSQL is reachable. With
HUBDESK_REQUIRE_POSTGRES=1 an unreachable PostgreSQL fails the run instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubdesk.config import Settings
from hubdesk.db.uow import Database
from hubdesk.runtime import Runtime
from tests.support.api import Api
from tests.support.databases import (
    Templates,
    pg_admin_url,
    postgres_unavailable_reason,
    settings_for,
)
from tests.support.passwords import TEST_HASHER
from tests.support.s3 import CREDENTIALS as S3_CREDENTIALS
from tests.support.s3 import S3Server

_PG_STATE: dict[str, str | None] = {}
_RAN_ON: set[str] = set()


def _pg_reason() -> str | None:
    if "reason" not in _PG_STATE:
        _PG_STATE["reason"] = postgres_unavailable_reason()
    return _PG_STATE["reason"]


def pytest_configure(config: pytest.Config) -> None:
    reason = _pg_reason()
    if reason and os.environ.get("HUBDESK_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(
            f"HUBDESK_REQUIRE_POSTGRES=1 but PostgreSQL at {pg_admin_url()} is unreachable: "
            f"{reason}"
        )


def pytest_report_header(config: pytest.Config) -> str:
    reason = _pg_reason()
    if reason:
        return f"hubdesk test databases: sqlite only (PostgreSQL unreachable: {reason})"
    return f"hubdesk test databases: sqlite and postgresql ({pg_admin_url()})"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_kind" in metafunc.fixturenames:
        kinds = ["sqlite"] if _pg_reason() else ["sqlite", "postgresql"]
        metafunc.parametrize("db_kind", kinds, scope="function")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In an xdist worker, hand the databases it used to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["hubdesk_ran_on"] = sorted(_RAN_ON)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """In the xdist controller, collect what each worker reported."""
    _RAN_ON.update(getattr(node, "workeroutput", {}).get("hubdesk_ran_on", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    kinds = ", ".join(sorted(_RAN_ON)) or "none"
    terminalreporter.write_line(f"hubdesk: tests ran on databases: {kinds}")
    reason = _pg_reason()
    if reason:
        terminalreporter.write_line(f"hubdesk: PostgreSQL was not used: {reason}")


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at its lowest cost in this process (see `tests.support.passwords`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("hubdesk.users.secrets._hasher", TEST_HASHER)
        yield


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(workdir=tmp_path_factory.mktemp("db-templates"))
    yield made
    made.cleanup()


@pytest.fixture
def database_url(db_kind: str, templates: Templates, tmp_path: Path) -> Iterator[str]:
    """The URL of a database at the latest migration as the template has it, with nothing
    a previous test wrote (on PostgreSQL a used database reset, see `tests.support.databases`)."""
    _RAN_ON.add(db_kind)
    if db_kind == "sqlite":
        yield templates.sqlite_copy(tmp_path / "hubdesk.db")
        return
    url = templates.lease_postgres()
    try:
        yield url
    finally:
        templates.give_back_postgres(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    built = Runtime.build(settings)
    yield built
    built.close()


@pytest.fixture
def db(runtime: Runtime) -> Database:
    return runtime.db


@pytest.fixture
def api(runtime: Runtime) -> Iterator[Api]:
    from fastapi.testclient import TestClient

    from hubdesk.web.app import create_app

    with TestClient(create_app(runtime.settings, runtime=runtime)) as client:
        yield Api(client=client, runtime=runtime)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on loopback for this session (a test may stop and start it)."""
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The S3 server, running, with its credentials in the variables the settings name."""
    s3_server.start()
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return s3_server
