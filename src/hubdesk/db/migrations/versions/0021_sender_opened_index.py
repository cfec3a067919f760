"""sender opened index: the email log's index on the sender also holds the direction and the
time, so the new-ticket throttle's reads (a sender's inbound mail since a moment; a bulk
chunk's read for all of its senders at once) search the sender's rows of that window
instead of every inbound row of the window. With the single-column index SQLite's planner
took the (direction, created_at) index for a chunk's read, which on a long import is every
row written in the last hour, read again by every chunk (`bench/README.md`, "Issue 9,
2026-12-05/06 night"). It replaces the single-column index on `email_from`, which it also
serves.

Revision ID: 0021_sender_opened_index
Revises: 0020_inline_lz4
"""

from __future__ import annotations

from alembic import op

revision = "0021_sender_opened_index"
down_revision = "0020_inline_lz4"
branch_labels = None
depends_on = None

OLD = "ix_tticket_email_log_email_from"
NEW = "ix_tticket_email_log_sender_opened"
COLUMNS = ["email_from", "direction", "created_at"]


def upgrade() -> None:
    op.create_index(NEW, "tticket_email_log", COLUMNS, unique=False)
    op.drop_index(OLD, table_name="tticket_email_log")


def downgrade() -> None:
    op.create_index(OLD, "tticket_email_log", ["email_from"], unique=False)
    op.drop_index(NEW, table_name="tticket_email_log")
