"""report rollups: the reports' per-ticket facts move from the SLA clock to the ticket row,
inside the covering period index (with the team), and are backfilled for every ticket

Revision ID: 0016_report_rollups
Revises: 0015_scale
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import UTCDateTime
from hubdesk.sla import report_facts

revision = "0016_report_rollups"
down_revision = "0015_scale"
branch_labels = None
depends_on = None

FACT_COLUMNS = (
    "report_created_at",
    "report_first_at",
    "report_resolved_at",
    "report_stamp",
    "report_first_s",
    "report_resolution_s",
)
OLD_CREATED_INDEX = [
    "created_at",
    "deleted_at",
    "merged_into_id",
    "customer_id",
    "priority",
    "assigned_to_user_id",
    "first_response_at",
    "resolved_at",
]
# The period scan of every report reads the team and the facts from the index too.
CREATED_INDEX = [*OLD_CREATED_INDEX, "team_id", *FACT_COLUMNS]


def _fact_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("report_created_at", UTCDateTime(), nullable=True),
        sa.Column("report_first_at", UTCDateTime(), nullable=True),
        sa.Column("report_resolved_at", UTCDateTime(), nullable=True),
        sa.Column("report_stamp", sa.String(length=64), nullable=True),
        sa.Column("report_first_s", sa.BigInteger(), nullable=True),
        sa.Column("report_resolution_s", sa.BigInteger(), nullable=True),
    ]


def upgrade() -> None:
    op.drop_index("ix_tticket_tickets_report_created", table_name="tticket_tickets")
    with op.batch_alter_table("tticket_tickets", schema=None) as batch_op:
        for column in _fact_columns():
            batch_op.add_column(column)
    # Every ticket's facts, computed as the hooks compute them on write (the clock's copies,
    # dropped below, were kept the same way: computing afresh needs no trust in them).
    report_facts.backfill(op.get_bind())
    op.create_index(
        "ix_tticket_tickets_report_created", "tticket_tickets", CREATED_INDEX, unique=False
    )
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite >= 3.35): no table is copied.
    for name in reversed(FACT_COLUMNS):
        op.drop_column("sla_ticket_clocks", name)


def downgrade() -> None:
    # The clock's copies come back empty: that version's reports compute such tickets at
    # request time until a hook refreshes them.
    with op.batch_alter_table("sla_ticket_clocks", schema=None) as batch_op:
        for column in _fact_columns():
            batch_op.add_column(column)
    op.drop_index("ix_tticket_tickets_report_created", table_name="tticket_tickets")
    for name in reversed(FACT_COLUMNS):
        op.drop_column("tticket_tickets", name)
    op.create_index(
        "ix_tticket_tickets_report_created", "tticket_tickets", OLD_CREATED_INDEX, unique=False
    )
