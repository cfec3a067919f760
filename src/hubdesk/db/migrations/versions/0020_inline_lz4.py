"""inline bytes compressed with lz4 on PostgreSQL.

A ledger row's raw mail and an attachment row's file kept in the row (`0019_inline_bytes`)
are compressed by PostgreSQL when over about 2 KB, by default with pglz. On the generated
corpus that compression was most of the cost of a bulk chunk's ledger INSERT: 25 rows took
9.2-10.0 ms with pglz, 4.2-5.0 ms with lz4 and 2.9-3.4 ms without the bytes
(`bench/README.md`, "Issue 9, 2026-12-05 night"). lz4 compresses mail nearly as well and
several times faster. Values already stored keep their compression; a server built without
lz4 keeps pglz. SQLite does not compress and is left as it is.

Revision ID: 0020_inline_lz4
Revises: 0019_inline_bytes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_inline_lz4"
down_revision = "0019_inline_bytes"
branch_labels = None
depends_on = None

COLUMNS = (("inbound_messages", "raw_inline"), ("tticket_attachments", "data_inline"))

_HAS_LZ4 = sa.text(
    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not bind.scalar(_HAS_LZ4):
        return
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION default")
