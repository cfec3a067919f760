"""uilists: saved views, priority keywords (seeded with the spec's), quarantine dismissals;
the views.share and priority.manage permissions

Revision ID: 0009_uilists
Revises: 0008
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import JSONValue, UTCDateTime

revision = "0009_uilists"
down_revision = "0008"
branch_labels = None
depends_on = None

PERMISSIONS = (
    ("views.share", "Create, change and delete saved views shared with everyone"),
    ("priority.manage", "Edit the priority keywords"),
)
# The spec's Priority Detection keywords (docs: TICKET_EMAIL_INTEGRATION.md), by language.
SPEC_KEYWORDS = (
    ("kritisk", "critical", "da"),
    ("critical", "critical", "en"),
    ("down", "critical", "en"),
    ("nede", "critical", "da"),
    ("urgent", "critical", "en"),
    ("akut", "critical", "da"),
    ("høj", "high", "da"),
    ("high", "high", "en"),
    ("vigtig", "high", "da"),
    ("important", "high", "en"),
    ("haster", "high", "da"),
    ("lav", "low", "da"),
    ("low", "low", "en"),
    ("spørgsmål", "low", "da"),
    ("question", "low", "en"),
    ("info", "low", "en"),
)


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("query", JSONValue(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name=op.f("fk_saved_views_owner_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint(
            "owner_user_id", "name", name=op.f("uq_saved_views_owner_user_id_name")
        ),
    )
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_saved_views_owner_user_id"), ["owner_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_saved_views_shared"), ["shared"], unique=False)
    keywords = op.create_table(
        "priority_keywords",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "level IN ('critical', 'high', 'low')", name=op.f("ck_priority_keywords_level")
        ),
        sa.CheckConstraint("language IN ('da', 'en')", name=op.f("ck_priority_keywords_language")),
        sa.CheckConstraint("scope IN ('subject', 'body')", name=op.f("ck_priority_keywords_scope")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_keywords")),
        sa.UniqueConstraint("word", "scope", name=op.f("uq_priority_keywords_word_scope")),
    )
    state = op.create_table(
        "priority_keyword_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_keyword_state")),
    )
    op.create_table(
        "inbound_dismissals",
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("dismissed_at", UTCDateTime(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_inbound_dismissals_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_messages.id"],
            name=op.f("fk_inbound_dismissals_inbound_id_inbound_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("inbound_id", name=op.f("pk_inbound_dismissals")),
    )
    moment = datetime.now(UTC)
    op.bulk_insert(
        keywords,
        [
            {"word": w, "level": lvl, "language": lang, "scope": "subject", "created_at": moment}
            for w, lvl, lang in SPEC_KEYWORDS
        ],
    )
    op.bulk_insert(state, [{"id": 1, "version": 1, "updated_at": moment}])
    _grant()


def _grant() -> None:
    """The new permissions, given to the admins group (which has every permission)."""
    bind = op.get_bind()
    for code, description in PERMISSIONS:
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
    for code, _description in PERMISSIONS:
        bind.execute(
            sa.text("DELETE FROM group_permissions WHERE permission_code = :c"), {"c": code}
        )
        bind.execute(sa.text("DELETE FROM permissions WHERE code = :c"), {"c": code})
    op.drop_table("inbound_dismissals")
    op.drop_table("priority_keyword_state")
    op.drop_table("priority_keywords")
    with op.batch_alter_table("saved_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_views_shared"))
        batch_op.drop_index(batch_op.f("ix_saved_views_owner_user_id"))
    op.drop_table("saved_views")
