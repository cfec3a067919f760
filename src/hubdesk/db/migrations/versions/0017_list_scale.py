"""list scale: the tickets' priority rank as a computed column, with an index for the
unassigned tickets by priority (the dashboard's box, `sort=-priority,created_at`); indexes
for one agent's tickets by the newest change and for the tickets merged into one; the
(status, priority) index with the merged and deleted marks, so bounded counts read it alone

Revision ID: 0017_list_scale
Revises: 0016_report_rollups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.tickets.states import PRIORITY_RANK_SQL

revision = "0017_list_scale"
down_revision = "0016_report_rollups"
branch_labels = None
depends_on = None

INDEX = "ix_tticket_tickets_unassigned_rank"
UNASSIGNED = "assigned_to_user_id IS NULL"
ASSIGNEE = "ix_tticket_tickets_assignee_updated"
MERGED = "ix_tticket_tickets_merged_into"
MERGED_ONLY = "merged_into_id IS NOT NULL"
OLD_STATUS = "ix_tticket_tickets_status_priority"
STATUS = "ix_tticket_tickets_status_priority_live"


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite adds a virtual computed column without
    # rebuilding the table (it cannot add a stored one); PostgreSQL stores it for every row.
    stored = op.get_bind().dialect.name == "postgresql"
    op.add_column(
        "tticket_tickets",
        sa.Column("priority_rank", sa.Integer(), sa.Computed(PRIORITY_RANK_SQL, persisted=stored)),
    )
    op.create_index(
        INDEX,
        "tticket_tickets",
        [sa.text("priority_rank DESC"), "created_at", "id"],
        unique=False,
        sqlite_where=sa.text(UNASSIGNED),
        postgresql_where=sa.text(UNASSIGNED),
    )
    op.create_index(
        ASSIGNEE, "tticket_tickets", ["assigned_to_user_id", "updated_at", "id"], unique=False
    )
    op.create_index(
        MERGED,
        "tticket_tickets",
        ["merged_into_id"],
        unique=False,
        sqlite_where=sa.text(MERGED_ONLY),
        postgresql_where=sa.text(MERGED_ONLY),
    )
    op.create_index(
        STATUS,
        "tticket_tickets",
        ["status", "priority", "merged_into_id", "deleted_at"],
        unique=False,
    )
    op.drop_index(OLD_STATUS, table_name="tticket_tickets")


def downgrade() -> None:
    op.create_index(OLD_STATUS, "tticket_tickets", ["status", "priority"], unique=False)
    op.drop_index(STATUS, table_name="tticket_tickets")
    op.drop_index(MERGED, table_name="tticket_tickets")
    op.drop_index(ASSIGNEE, table_name="tticket_tickets")
    op.drop_index(INDEX, table_name="tticket_tickets")
    # A plain DROP COLUMN on both databases (SQLite 3.35+ drops a virtual column in place):
    # a batch copy of tticket_tickets on SQLite would drop the old table, and with it, by
    # their ON DELETE CASCADE, every row that hangs off a ticket.
    op.drop_column("tticket_tickets", "priority_rank")
