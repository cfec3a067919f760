"""reports: the reports.view permission (admins), indexes the reports' period filters use

Revision ID: 0011_reports
Revises: 0010_uiforms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_reports"
down_revision = "0010_uiforms"
branch_labels = None
depends_on = None

# Covering indexes: a report's period scan reads these columns from the index alone.
CREATED_COLUMNS = [
    "created_at",
    "deleted_at",
    "merged_into_id",
    "customer_id",
    "priority",
    "assigned_to_user_id",
    "first_response_at",
    "resolved_at",
]
RESOLVED_COLUMNS = [
    "resolved_at",
    "deleted_at",
    "merged_into_id",
    "customer_id",
    "priority",
    "assigned_to_user_id",
]
PERMISSION = ("reports.view", "See reports: volume, response times, SLA, customers, agents")


def upgrade() -> None:
    with op.batch_alter_table("tticket_tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tticket_tickets_report_created", CREATED_COLUMNS, unique=False)
        batch_op.create_index("ix_tticket_tickets_report_resolved", RESOLVED_COLUMNS, unique=False)
    with op.batch_alter_table("tticket_worklogs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tticket_worklogs_work_date"), ["work_date"], unique=False
        )
    bind = op.get_bind()
    code, description = PERMISSION
    bind.execute(
        sa.text("INSERT INTO permissions (code, description) VALUES (:c, :d)"),
        {"c": code, "d": description},
    )
    bind.execute(
        sa.text(
            "INSERT INTO group_permissions (group_id, permission_code) "
            "SELECT id, :c FROM groups WHERE name = 'admins'"
        ),
        {"c": code},
    )


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM group_permissions WHERE permission_code = 'reports.view'"))
    bind.execute(sa.text("DELETE FROM permissions WHERE code = 'reports.view'"))
    with op.batch_alter_table("tticket_worklogs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_worklogs_work_date"))
    with op.batch_alter_table("tticket_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tticket_tickets_report_resolved")
        batch_op.drop_index("ix_tticket_tickets_report_created")
