"""Empty, unmigrated databases for the migration tests (the fixtures hand out migrated ones)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from hubdesk.db.engine import create_db_engine
from tests.support.databases import pg_admin_url


def _admin(statement: str) -> None:
    engine = create_db_engine(pg_admin_url())
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@contextmanager
def empty_database(db_kind: str, directory: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a brand-new empty database of `db_kind`, dropped afterwards."""
    if db_kind == "sqlite":
        yield f"sqlite:///{directory / 'empty.db'}"
        return
    name = f"hubdesk_test_empty_{os.getpid()}_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
