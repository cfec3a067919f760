"""inline bytes: a ledger row may hold its raw mail itself (`inbound_messages.raw_inline`) and
an attachment row its file (`tticket_attachments.data_inline`).

Received mail of at most `HUBDESK_INLINE_MAX_BYTES` (raw mail kept by the batch paths:
`hubdesk ingest`'s batches and the live receivers' group commit; attachments of any mail
processed) is kept in its row instead of a blob file: creating those files (and, in a young
store, their fan-out directories) was about a third of the bulk path's time on the generated
corpus, whose median mail is 1 KB (`bench/README.md`, "Issue 9, 2026-12-05 evening"). Rows
with the column NULL keep their bytes in the blob store, as before.

Revision ID: 0019_inline_bytes
Revises: 0018_worklog_report_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_inline_bytes"
down_revision = "0018_worklog_report_index"
branch_labels = None
depends_on = None

COLUMNS = (("inbound_messages", "raw_inline"), ("tticket_attachments", "data_inline"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # the bytes a row holds itself would be lost with the column: refuse while any are kept
    for table, column in COLUMNS:
        kept = op.get_bind().scalar(
            sa.text(f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
        )
        if kept:
            raise RuntimeError(
                f"{kept} rows of {table} keep their bytes in the database ({column}); "
                "downgrading would lose them"
            )
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
