"""auto: agents' availability, round-robin cursors, automation events, snoozed tickets

Revision ID: 0013_auto
Revises: 0012_uiwork
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import JSONValue, UTCDateTime

revision = "0013_auto"
down_revision = "0012_uiwork"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("available", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "assignment_cursors",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("last_user_id", sa.Integer(), nullable=True),
        sa.Column("assigned_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_assignment_cursors_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_assignment_cursors")),
    )
    op.create_table(
        "automation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.Column("result", JSONValue(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_automation_events_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_automation_events_event_key")),
    )
    with op.batch_alter_table("automation_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_automation_events_ticket_fired", ["ticket_id", "fired_at"], unique=False
        )
    op.create_table(
        "ticket_snoozes",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("set_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_ticket_snoozes_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_user_id"],
            ["users.id"],
            name=op.f("fk_ticket_snoozes_set_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_snoozes")),
    )
    with op.batch_alter_table("ticket_snoozes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_snoozes_until"), ["until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_snoozes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_snoozes_until"))
    op.drop_table("ticket_snoozes")
    with op.batch_alter_table("automation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_automation_events_ticket_fired")
    op.drop_table("automation_events")
    op.drop_table("assignment_cursors")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("available")
