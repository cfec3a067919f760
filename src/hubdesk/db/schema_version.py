"""Which migration a database is at, and whether it is the one this code expects, without
loading Alembic.

Every `hubdesk` command that uses the database checks its schema first, and Postfix's pipe
delivery starts `hubdesk ingest -` once per message. Asking Alembic (importing it, then
reading every migration script for the head) was a quarter of that start: `hubdesk ingest`
of one stored mail took 835 ms with it and 639 ms without (the whole process, median of 8
interleaved runs, 2026-12-05). The head is a constant here instead, and
`tests/unit/test_schema_version.py` fails as soon as a migration is added without moving
it. `hubdesk.db.migrate` (Alembic) still applies the migrations and reports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import Engine, inspect, text

from hubdesk.db.uow import describe_unavailable, is_transient
from hubdesk.errors import DatabaseUnavailable, HubdeskError

HEAD: Final = "0023_redundant_indexes"
"""The newest migration in `hubdesk/db/migrations/versions` (the history is one line)."""

_VERSION_TABLE: Final = "alembic_version"
_READ_VERSION: Final = text("SELECT version_num FROM alembic_version")


def current(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database), as Alembic records it."""
    with unavailable_is_temporary(), engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE):
            return None
        found = list(connection.execute(_READ_VERSION).scalars())
    if len(found) > 1:
        raise HubdeskError(
            f"the database records {len(found)} schema revisions ({', '.join(sorted(found))}); "
            "hubdesk's migrations are one line, so it was changed by hand"
        )
    return found[0] if found else None


def behind(engine: Engine) -> str | None:
    """None when the database is at `HEAD`; else the sentence that says what to do."""
    at = current(engine)
    if at == HEAD:
        return None
    return (
        f"the database is at revision {at or 'none'}, not the latest ({HEAD}); "
        "run 'hubdesk db upgrade' first"
    )


@contextmanager
def unavailable_is_temporary() -> Iterator[None]:
    """A database that cannot be reached is `DatabaseUnavailable` (exit 75), not a crash."""
    try:
        yield
    except HubdeskError:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise DatabaseUnavailable(describe_unavailable(exc)) from exc
        raise
