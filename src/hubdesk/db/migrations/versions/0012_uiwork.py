"""uiwork: canned responses; the canned.manage permission

Revision ID: 0012_uiwork
Revises: 0011_reports
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import UTCDateTime

revision = "0012_uiwork"
down_revision = "0011_reports"
branch_labels = None
depends_on = None

PERMISSION = ("canned.manage", "Manage the shared canned responses")


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name=op.f("fk_canned_responses_owner_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
    )
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_canned_responses_owner_title", ["owner_user_id", "title"], unique=False
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
    bind.execute(sa.text("DELETE FROM group_permissions WHERE permission_code = 'canned.manage'"))
    bind.execute(sa.text("DELETE FROM permissions WHERE code = 'canned.manage'"))
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_canned_responses_owner_title")
    op.drop_table("canned_responses")
