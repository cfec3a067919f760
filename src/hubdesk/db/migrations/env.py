"""Alembic environment: runs on the connection `hubdesk.db.migrate` hands it.

Batch mode is on so that ALTERs work on SQLite (which recreates the table).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hubdesk.db.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("hubdesk migrations run through `hubdesk db upgrade`, not bare alembic")
_run(connection)
