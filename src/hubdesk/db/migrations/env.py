"""Alembic environment: runs on the connection `hubdesk.db.migrate` hands it.

Batch mode is on so that ALTERs work on SQLite (which recreates the table).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hubdesk.models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave autogenerate blind to what `hubdesk.db.ddl` owns (search tables, views)."""
    return not (
        type_ == "table" and name is not None and name.startswith(("tticket_search", "tticket_v_"))
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("hubdesk migrations run through `hubdesk db upgrade`, not bare alembic")
_run(connection)
