"""raw inline: a ledger row may hold its raw bytes itself (`inbound_messages.raw_inline`).

The batch paths (`hubdesk ingest`'s batches, the live receivers' group commit) keep a raw
message of at most `HUBDESK_RAW_INLINE_MAX_BYTES` in its ledger row instead of a blob file:
creating that file (and, in a young store, its fan-out directory) was a fifth of the bulk
path's time on the generated corpus, whose median mail is 1 KB (`bench/README.md`, "Issue 9,
2026-12-05 evening"). Rows with the column NULL keep their bytes in the blob store, as before.

Revision ID: 0019_raw_inline
Revises: 0018_worklog_report_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_raw_inline"
down_revision = "0018_worklog_report_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_inline", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # the bytes a row holds itself would be lost with the column: refuse while any are kept
    kept = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM inbound_messages WHERE raw_inline IS NOT NULL")
    )
    if kept:
        raise RuntimeError(
            f"{kept} ledger rows keep their raw bytes in the database (raw_inline); "
            "downgrading would lose them"
        )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("raw_inline")
