"""Test databases: one fresh, migrated database per test on SQLite and on PostgreSQL.

Migrations run once per test session into a template (a file on SQLite, a template database
on PostgreSQL); each test gets a copy, so tests never see each other's rows and two test runs
at once never collide (names carry the pid and a random part). Databases are dropped after.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hubdesk.db.engine import create_db_engine
from hubdesk.db.migrate import upgrade

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def pg_admin_url() -> str:
    url = os.environ.get("HUBDESK_TEST_DATABASE_URL", DEFAULT_PG_URL)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def postgres_unavailable_reason() -> str | None:
    """None when the test PostgreSQL answers, else why not."""
    try:
        engine = create_db_engine(pg_admin_url())
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means "not reachable" for the suite's purposes
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    return None


def _admin_execute(statement: str) -> None:
    engine = create_db_engine(pg_admin_url())
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@dataclass
class Templates:
    """Lazily migrated templates, one per database kind, for this test process."""

    workdir: Path
    prefix: str = field(
        default_factory=lambda: f"hubdesk_test_{os.getpid()}_{secrets.token_hex(3)}"
    )
    _sqlite: Path | None = None
    _pg: str | None = None
    _counter: int = 0
    created_pg: list[str] = field(default_factory=list)

    def sqlite_copy(self, destination: Path) -> str:
        if self._sqlite is None:
            template = self.workdir / "template.db"
            engine = create_db_engine(f"sqlite:///{template}")
            upgrade(engine)
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            self._sqlite = template
        shutil.copyfile(self._sqlite, destination)
        return f"sqlite:///{destination}"

    def postgres_copy(self) -> str:
        if self._pg is None:
            name = f"{self.prefix}_tpl"
            _admin_execute(f'CREATE DATABASE "{name}"')
            self.created_pg.append(name)
            engine = create_db_engine(self._pg_url(name))
            upgrade(engine)
            engine.dispose()
            self._pg = name
        self._counter += 1
        name = f"{self.prefix}_{self._counter}"
        # FILE_COPY clones a small database several times faster than WAL_LOG (PG 15+).
        _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg}" STRATEGY FILE_COPY')
        return self._pg_url(name)

    def drop_postgres(self, url: str) -> None:
        name = make_url(url).database
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def cleanup(self) -> None:
        for name in reversed(self.created_pg):
            _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @staticmethod
    def _pg_url(name: str) -> str:
        return make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)
