"""sla: policies, customer policies, ticket clocks, escalations; the sla.manage permission

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-03 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import JSONValue, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PERMISSION = ("sla.manage", "Manage SLA policies, their calendars and targets")


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("hours", JSONValue(), nullable=False),
        sa.Column("holidays", JSONValue(), nullable=False),
        sa.Column("country_holidays", sa.String(length=8), nullable=True),
        sa.Column("targets", JSONValue(), nullable=False),
        sa.Column("warning_percent", sa.Integer(), nullable=False),
        sa.Column("escalations", JSONValue(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    op.create_table(
        "sla_policy_customers",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sla_policy_customers_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_policy_customers_policy_id_sla_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_sla_policy_customers")),
    )
    with op.batch_alter_table("sla_policy_customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sla_policy_customers_policy_id"), ["policy_id"], unique=False
        )
    op.create_table(
        "sla_ticket_clocks",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("resolution_started_at", UTCDateTime(), nullable=False),
        sa.Column("pauses", JSONValue(), nullable=False),
        sa.Column("awaiting_since", UTCDateTime(), nullable=True),
        sa.Column("first_response_met_at", UTCDateTime(), nullable=True),
        sa.Column("next_response_met_at", UTCDateTime(), nullable=True),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.Column("missed", JSONValue(), nullable=False),
        sa.Column("last_status", sa.String(length=32), nullable=False),
        sa.Column("last_priority", sa.String(length=16), nullable=False),
        sa.Column("last_customer_id", sa.Integer(), nullable=True),
        sa.Column("first_response_due_at", UTCDateTime(), nullable=True),
        sa.Column("next_response_due_at", UTCDateTime(), nullable=True),
        sa.Column("resolution_due_at", UTCDateTime(), nullable=True),
        sa.Column("next_due_at", UTCDateTime(), nullable=True),
        sa.Column("warning_at", UTCDateTime(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_ticket_clocks_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_sla_ticket_clocks_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_sla_ticket_clocks")),
    )
    with op.batch_alter_table("sla_ticket_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_sla_ticket_clocks_next_due_at", ["next_due_at"], unique=False)
        batch_op.create_index("ix_sla_ticket_clocks_warning_at", ["warning_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sla_ticket_clocks_policy_id"), ["policy_id"], unique=False
        )
    op.create_table(
        "sla_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.Column("actions", JSONValue(), nullable=False),
        sa.CheckConstraint("kind IN ('warning', 'breach')", name=op.f("ck_sla_escalations_kind")),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_escalations_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_sla_escalations_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_escalations")),
        sa.UniqueConstraint("event_key", name=op.f("uq_sla_escalations_event_key")),
    )
    with op.batch_alter_table("sla_escalations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sla_escalations_ticket_fired", ["ticket_id", "fired_at"], unique=False
        )
    _grant()


def _grant() -> None:
    """The new permission, given to the admins group (which has every permission)."""
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
    bind.execute(sa.text("DELETE FROM group_permissions WHERE permission_code = 'sla.manage'"))
    bind.execute(sa.text("DELETE FROM permissions WHERE code = 'sla.manage'"))
    with op.batch_alter_table("sla_escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_escalations_ticket_fired")
    op.drop_table("sla_escalations")
    with op.batch_alter_table("sla_ticket_clocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_ticket_clocks_policy_id"))
        batch_op.drop_index("ix_sla_ticket_clocks_warning_at")
        batch_op.drop_index("ix_sla_ticket_clocks_next_due_at")
    op.drop_table("sla_ticket_clocks")
    with op.batch_alter_table("sla_policy_customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_policy_customers_policy_id"))
    op.drop_table("sla_policy_customers")
    op.drop_table("sla_policies")
