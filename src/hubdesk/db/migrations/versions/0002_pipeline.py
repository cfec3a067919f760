"""pipeline: inbound ledger, dedupe keys, email bodies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:51:17.612021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import JSONValue, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("raw_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_of_id", sa.Integer(), nullable=True),
        sa.Column("flags", JSONValue(), nullable=False),
        sa.Column("envelope", JSONValue(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.Column("raw_purged_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('received', 'processed', 'duplicate', 'ignored', 'quarantined', 'failed')",
            name=op.f("ck_inbound_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["inbound_messages.id"],
            name=op.f("fk_inbound_messages_duplicate_of_id_inbound_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_inbound_messages_ticket_id_tticket_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_messages_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_messages_raw_sha256"), ["raw_sha256"], unique=False
        )
        batch_op.create_index(
            "ix_inbound_messages_status_received", ["status", "received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_messages_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "inbound_dedupe_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_messages.id"],
            name=op.f("fk_inbound_dedupe_keys_inbound_id_inbound_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_inbound_dedupe_keys")),
    )
    with op.batch_alter_table("inbound_dedupe_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_dedupe_keys_inbound_id"), ["inbound_id"], unique=False
        )

    with op.batch_alter_table("tticket_email_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbound_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("email_to", JSONValue(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("email_cc", JSONValue(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("body_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("body_visible", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("flags", JSONValue(), nullable=False, server_default="{}"))
        batch_op.create_index(
            batch_op.f("ix_tticket_email_log_inbound_id"), ["inbound_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tticket_email_log_inbound_id_inbound_messages"),
            "inbound_messages",
            ["inbound_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("tticket_attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_log_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_tticket_attachments_email_log_id"), ["email_log_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tticket_attachments_email_log_id_tticket_email_log"),
            "tticket_email_log",
            ["email_log_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("tticket_comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_log_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_tticket_comments_email_log_id_tticket_email_log"),
            "tticket_email_log",
            ["email_log_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("tticket_email_log", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tticket_email_log_inbound_id_inbound_messages"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_tticket_email_log_inbound_id"))
        batch_op.drop_column("flags")
        batch_op.drop_column("body_html")
        batch_op.drop_column("body_visible")
        batch_op.drop_column("body_text")
        batch_op.drop_column("email_cc")
        batch_op.drop_column("email_to")
        batch_op.drop_column("inbound_id")

    with op.batch_alter_table("tticket_comments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tticket_comments_email_log_id_tticket_email_log"), type_="foreignkey"
        )
        batch_op.drop_column("email_log_id")

    with op.batch_alter_table("tticket_attachments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tticket_attachments_email_log_id_tticket_email_log"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_tticket_attachments_email_log_id"))
        batch_op.drop_column("email_log_id")

    with op.batch_alter_table("inbound_dedupe_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_dedupe_keys_inbound_id"))

    op.drop_table("inbound_dedupe_keys")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_messages_ticket_id"))
        batch_op.drop_index("ix_inbound_messages_status_received")
        batch_op.drop_index(batch_op.f("ix_inbound_messages_raw_sha256"))
        batch_op.drop_index(batch_op.f("ix_inbound_messages_message_id"))

    op.drop_table("inbound_messages")
