"""uiforms: one-time form tokens of the UI, a user's signature and notification choices

Revision ID: 0010_uiforms
Revises: 0009_uilists
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import UTCDateTime

revision = "0010_uiforms"
down_revision = "0009_uilists"
branch_labels = None
depends_on = None

NOTIFY_COLUMNS = (
    "notify_on_assigned",
    "notify_on_customer_reply",
    "notify_on_mention",
    "notify_on_sla",
)


def upgrade() -> None:
    op.create_table(
        "ui_form_posts",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("result_url", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ui_form_posts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_ui_form_posts")),
    )
    with op.batch_alter_table("ui_form_posts", schema=None) as batch_op:
        batch_op.create_index("ix_ui_form_posts_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature", sa.Text(), nullable=True))
        for name in NOTIFY_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), server_default=sa.true(), nullable=False)
            )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        for name in reversed(NOTIFY_COLUMNS):
            batch_op.drop_column(name)
        batch_op.drop_column("signature")
    with op.batch_alter_table("ui_form_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_ui_form_posts_created_at")
    op.drop_table("ui_form_posts")
