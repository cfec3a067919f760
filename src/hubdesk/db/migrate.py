"""Applying and inspecting migrations from code (`hubdesk db upgrade|current`). The check
every command makes before it starts is `hubdesk.db.schema_version`, which needs no Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from hubdesk.db.schema_version import unavailable_is_temporary
from hubdesk.errors import HubdeskError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`, in one transaction where the database allows.

    On SQLite, foreign key enforcement is off while migrations run: batch mode recreates a
    table by copying it, dropping the original and renaming the copy, and with enforcement
    on, that DROP first deletes every row, firing ON DELETE SET NULL / CASCADE on the child
    tables (silently unlinking them) or failing outright. The links are verified with
    `PRAGMA foreign_key_check` before the transaction commits.
    """
    config = alembic_config()
    with unavailable_is_temporary(), engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _set_sqlite_foreign_keys(connection, enabled=False)
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    _check_sqlite_foreign_keys(connection)
        finally:
            if sqlite:
                _set_sqlite_foreign_keys(connection, enabled=True)


def _set_sqlite_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    # The pragma is ignored inside a transaction, so it goes straight to the driver
    # connection (in autocommit mode, see hubdesk.db.engine) while none is open.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        tables = ", ".join(sorted({str(row[0]) for row in broken}))
        raise HubdeskError(
            f"the migration would leave {len(broken)} rows in {tables} pointing at rows that "
            "do not exist; nothing was changed"
        )


def current_revision(engine: Engine) -> str | None:
    with unavailable_is_temporary(), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
