"""scale: the reports' per-ticket facts on the SLA clock (with their backfill); indexes for
the lists sorted by creation or change and for the newest mail

Revision ID: 0015_scale
Revises: 0014_teams
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import UTCDateTime

revision = "0015_scale"
down_revision = "0014_teams"
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

INDEXES = (
    (
        "tticket_email_log",
        "ix_tticket_email_log_direction_created",
        ["direction", "created_at", "id"],
    ),
    ("tticket_tickets", "ix_tticket_tickets_updated_id", ["updated_at", "id"]),
    ("tticket_tickets", "ix_tticket_tickets_created_id", ["created_at", "id"]),
    ("tticket_tickets", "ix_tticket_tickets_status_updated", ["status", "updated_at", "id"]),
)


def upgrade() -> None:
    with op.batch_alter_table("sla_ticket_clocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_created_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("report_first_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("report_resolved_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("report_stamp", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("report_first_s", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("report_resolution_s", sa.BigInteger(), nullable=True))
    # No backfill here: 0016_report_rollups moves the facts to the ticket row and backfills
    # them there (report_facts.backfill now writes the ticket row).
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("sla_ticket_clocks", schema=None) as batch_op:
        for name in reversed(FACT_COLUMNS):
            batch_op.drop_column(name)
