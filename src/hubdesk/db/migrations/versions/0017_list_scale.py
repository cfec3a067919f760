"""list scale: the tickets' priority rank as a computed column, with an index for the
unassigned tickets by priority (the dashboard's box, `sort=-priority,created_at`)

Revision ID: 0017_list_scale
Revises: 0015_scale
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.tickets.states import PRIORITY_RANK_SQL

revision = "0017_list_scale"
down_revision = "0015_scale"
branch_labels = None
depends_on = None

INDEX = "ix_tticket_tickets_unassigned_rank"
UNASSIGNED = "assigned_to_user_id IS NULL"


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


def downgrade() -> None:
    op.drop_index(INDEX, table_name="tticket_tickets")
    with op.batch_alter_table("tticket_tickets", schema=None) as batch_op:
        batch_op.drop_column("priority_rank")
