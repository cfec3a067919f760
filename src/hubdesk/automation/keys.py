"""Insert a row unless its unique key exists (PostgreSQL and SQLite): the building block of
"never twice" for the worker's automatic events and the assignment cursors."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_once(session: Session, model: Any, key: str, values: dict[str, Any]) -> bool:
    """Insert `values` into `model`'s table unless a row with the same `key` column value
    exists; True when this call inserted it. On PostgreSQL a second transaction inserting
    the same key waits for the first and then inserts nothing; SQLite writers are serial."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[key])
        .returning(getattr(model, key))
    )
    return session.execute(statement).first() is not None
