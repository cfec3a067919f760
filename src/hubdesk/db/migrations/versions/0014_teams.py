"""teams: a mailbox's and a ticket's team (a user group), ticket links, tickets.all_teams

Revision ID: 0014_teams
Revises: 0013_auto
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db import ddl
from hubdesk.db.types import UTCDateTime

revision = "0014_teams"
down_revision = "0013_auto"
branch_labels = None
depends_on = None

PERMISSIONS = (("tickets.all_teams", "See every team's tickets in the queues"),)


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite takes a REFERENCES clause there): a batch copy of
    # tticket_tickets would break the reporting views that read it.
    bind = op.get_bind()
    for table in ("mailboxes", "tticket_tickets"):
        if bind.dialect.name == "sqlite":
            bind.exec_driver_sql(
                f"ALTER TABLE {table} ADD COLUMN team_id INTEGER "
                f"CONSTRAINT fk_{table}_team_id_groups REFERENCES groups (id) ON DELETE SET NULL"
            )
            continue
        op.add_column(table, sa.Column("team_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            f"fk_{table}_team_id_groups", table, "groups", ["team_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index("ix_tticket_tickets_team_id", "tticket_tickets", ["team_id"], unique=False)
    op.create_table(
        "tticket_ticket_links",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("linked_ticket_id", sa.Integer(), nullable=False),
        sa.Column("linked_ticket_number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('same_email', 'split')", name=op.f("ck_tticket_ticket_links_kind")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_ticket_links_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_ticket_links_linked_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_messages.id"],
            name=op.f("fk_tticket_ticket_links_inbound_id_inbound_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint(
            "ticket_id", "linked_ticket_id", name=op.f("pk_tticket_ticket_links")
        ),
    )
    with op.batch_alter_table("tticket_ticket_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tticket_ticket_links_linked_ticket_id"),
            ["linked_ticket_id"],
            unique=False,
        )
    with op.batch_alter_table("tticket_email_log", schema=None) as batch_op:
        batch_op.create_index(
            "uq_tticket_email_log_inbound_ticket", ["inbound_id", "ticket_id"], unique=True
        )
    _grant()


def _grant() -> None:
    """The new permission, given to the admins group (which has every permission)."""
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
    with op.batch_alter_table("tticket_email_log", schema=None) as batch_op:
        batch_op.drop_index("uq_tticket_email_log_inbound_ticket")
    with op.batch_alter_table("tticket_ticket_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_ticket_links_linked_ticket_id"))
    op.drop_table("tticket_ticket_links")
    op.drop_index("ix_tticket_tickets_team_id", table_name="tticket_tickets")
    bind = op.get_bind()
    for view in ddl.VIEWS:  # a batch copy of tticket_tickets on SQLite needs them gone
        bind.exec_driver_sql(f"DROP VIEW IF EXISTS {view}")
    for table in ("tticket_tickets", "mailboxes"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if bind.dialect.name == "postgresql":
                batch_op.drop_constraint(f"fk_{table}_team_id_groups", type_="foreignkey")
            batch_op.drop_column("team_id")
    ddl.create_views(bind)
