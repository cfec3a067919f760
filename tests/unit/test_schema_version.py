"""`hubdesk.db.schema_version.HEAD` is Alembic's head: a new migration must move it."""

from __future__ import annotations

from hubdesk.db import schema_version
from hubdesk.db.migrate import head_revision


def test_the_head_constant_is_the_newest_migration() -> None:
    assert head_revision() == schema_version.HEAD, (
        "a migration was added: set hubdesk.db.schema_version.HEAD to its revision"
    )
