"""foundation: ticket module, users, permissions

Revision ID: 0001
Revises:
Create Date: 2026-11-27 22:39:48.278712
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db import ddl
from hubdesk.db.types import JSONValue, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# The permission codes and seeded groups as of this revision (the spec's migration 026).
PERMISSIONS = {
    "tickets.view": "See tickets, their comments, attachments and email threads",
    "tickets.create": "Create tickets",
    "tickets.edit": "Change tickets, reopen resolved or closed ones, merge",
    "tickets.delete": "Delete tickets (soft delete)",
    "tickets.assign": "Assign tickets to users",
    "comments.create": "Add public comments and internal notes",
    "worklogs.create": "Log time on tickets",
    "prepaid.view": "See prepaid hour cards and balances",
    "prepaid.manage": "Create and cancel prepaid hour cards",
    "customers.manage": "Create and change customers and contacts",
    "workflows.manage": "Manage email workflows",
    "users.manage": "Manage users, groups and API tokens",
    "inbound.view": "See the inbound mail ledger",
    "inbound.reprocess": "Re-run quarantined or failed inbound mail",
    "emails.inject": "Submit raw or test emails through the API",
    "emails.classify": "Correct the classification of an inbound email",
    "mailboxes.manage": "Configure mailboxes",
    "replies.send": "Send replies to customers by email",
}
GROUPS = {
    "admins": ("Administrators: everything", tuple(PERMISSIONS)),
    "agents": (
        "Agents: work tickets, comments, worklogs, replies; view prepaid cards",
        (
            "tickets.view",
            "tickets.create",
            "tickets.edit",
            "tickets.assign",
            "comments.create",
            "worklogs.create",
            "prepaid.view",
            "replies.send",
        ),
    ),
    "readonly": ("Read-only: view tickets and prepaid cards", ("tickets.view", "prepaid.view")),
}


def _seed() -> None:
    permissions = sa.table("permissions", sa.column("code"), sa.column("description"))
    groups = sa.table("groups", sa.column("id"), sa.column("name"), sa.column("description"))
    group_permissions = sa.table(
        "group_permissions", sa.column("group_id"), sa.column("permission_code")
    )
    op.bulk_insert(permissions, [{"code": c, "description": d} for c, d in PERMISSIONS.items()])
    for group_id, (name, (description, codes)) in enumerate(GROUPS.items(), start=1):
        op.bulk_insert(groups, [{"id": group_id, "name": name, "description": description}])
        op.bulk_insert(
            group_permissions, [{"group_id": group_id, "permission_code": c} for c in codes]
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('groups', 'id'), (SELECT MAX(id) FROM groups))"
        )


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_name"), ["name"], unique=False)

    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_groups_name")),
    )
    op.create_table(
        "permissions",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_permissions")),
    )
    op.create_table(
        "tticket_audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=400), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("changes", JSONValue(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tticket_audit_log")),
    )
    with op.batch_alter_table("tticket_audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tticket_audit_log_entity", ["entity_type", "entity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tticket_audit_log_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "tticket_number_counters",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_tticket_number_counters")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("notify_by_email", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contacts_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("email", name=op.f("uq_contacts_email")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "customer_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_domains_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_customer_domains")),
    )
    with op.batch_alter_table("customer_domains", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_domains_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "group_permissions",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("permission_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_permissions_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["permission_code"],
            ["permissions.code"],
            name=op.f("fk_group_permissions_permission_code_permissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "permission_code", name=op.f("pk_group_permissions")),
    )
    op.create_table(
        "tticket_prepaid_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("hours_bought", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bought_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("minutes_used", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'depleted', 'expired', 'cancelled')",
            name=op.f("ck_tticket_prepaid_cards_status"),
        ),
        sa.CheckConstraint(
            "hours_bought > 0", name=op.f("ck_tticket_prepaid_cards_hours_positive")
        ),
        # ROUND: on SQLite hours_bought is a float and 2.05 * 60 = 122.99999999999999.
        sa.CheckConstraint(
            "minutes_used <= ROUND(hours_bought * 60)",
            name=op.f("ck_tticket_prepaid_cards_balance_not_negative"),
        ),
        sa.CheckConstraint(
            "minutes_used >= 0", name=op.f("ck_tticket_prepaid_cards_used_not_negative")
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_tticket_prepaid_cards_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tticket_prepaid_cards_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tticket_prepaid_cards")),
    )
    with op.batch_alter_table("tticket_prepaid_cards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tticket_prepaid_cards_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "user_groups",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_user_groups_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_groups_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_user_groups")),
    )
    op.create_table(
        "tticket_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("assigned_to_user_id", sa.Integer(), nullable=True),
        sa.Column("custom_fields", JSONValue(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("first_response_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'critical')",
            name=op.f("ck_tticket_tickets_priority"),
        ),
        sa.CheckConstraint(
            "source IN ('email', 'api', 'web')", name=op.f("ck_tticket_tickets_source")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'waiting_customer', 'waiting_internal', "
            "'resolved', 'closed')",
            name=op.f("ck_tticket_tickets_status"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to_user_id"],
            ["users.id"],
            name=op.f("fk_tticket_tickets_assigned_to_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_tticket_tickets_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_tticket_tickets_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tticket_tickets_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_tickets_merged_into_id_tticket_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tticket_tickets")),
        sa.UniqueConstraint("ticket_number", name=op.f("uq_tticket_tickets_ticket_number")),
    )
    with op.batch_alter_table("tticket_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tticket_tickets_assigned_to_user_id"),
            ["assigned_to_user_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_tticket_tickets_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tticket_tickets_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tticket_tickets_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_tticket_tickets_status_priority", ["status", "priority"], unique=False
        )

    op.create_table(
        "tticket_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("author_contact_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "source IN ('email', 'api', 'web', 'system')", name=op.f("ck_tticket_comments_source")
        ),
        sa.ForeignKeyConstraint(
            ["author_contact_id"],
            ["contacts.id"],
            name=op.f("fk_tticket_comments_author_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_tticket_comments_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_comments_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tticket_comments")),
    )
    with op.batch_alter_table("tticket_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tticket_comments_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "tticket_email_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("email_message_id", sa.Text(), nullable=False),
        sa.Column("email_subject", sa.Text(), nullable=True),
        sa.Column("email_from", sa.Text(), nullable=False),
        sa.Column("email_received_at", UTCDateTime(), nullable=True),
        sa.Column("is_reply", sa.Boolean(), nullable=False),
        sa.Column("thread_data", JSONValue(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound')", name=op.f("ck_tticket_email_log_direction")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_email_log_ticket_id_tticket_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tticket_email_log")),
    )
    with op.batch_alter_table("tticket_email_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tticket_email_log_email_from"), ["email_from"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tticket_email_log_email_message_id"), ["email_message_id"], unique=False
        )
        batch_op.create_index(
            "ix_tticket_email_log_ticket_created", ["ticket_id", "created_at"], unique=False
        )

    op.create_table(
        "tticket_participants",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('contact', 'sender', 'cc')", name=op.f("ck_tticket_participants_role")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_participants_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "email", name=op.f("pk_tticket_participants")),
    )
    with op.batch_alter_table("tticket_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tticket_participants_email"), ["email"], unique=False)

    op.create_table(
        "tticket_ticket_tags",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_ticket_tags_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "tag", name=op.f("pk_tticket_ticket_tags")),
    )
    with op.batch_alter_table("tticket_ticket_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tticket_ticket_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "tticket_worklogs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("billing", sa.String(length=16), nullable=False),
        sa.Column("invoice_reference", sa.String(length=200), nullable=True),
        sa.Column("prepaid_card_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "billing <> 'invoice' OR invoice_reference IS NOT NULL",
            name=op.f("ck_tticket_worklogs_invoice_reference"),
        ),
        sa.CheckConstraint(
            "billing <> 'prepaid' OR prepaid_card_id IS NOT NULL",
            name=op.f("ck_tticket_worklogs_prepaid_card"),
        ),
        sa.CheckConstraint(
            "billing IN ('none', 'invoice', 'prepaid')", name=op.f("ck_tticket_worklogs_billing")
        ),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_tticket_worklogs_minutes_positive")),
        sa.ForeignKeyConstraint(
            ["prepaid_card_id"],
            ["tticket_prepaid_cards.id"],
            name=op.f("fk_tticket_worklogs_prepaid_card_id_tticket_prepaid_cards"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_worklogs_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tticket_worklogs_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tticket_worklogs")),
    )
    with op.batch_alter_table("tticket_worklogs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tticket_worklogs_prepaid_card_id"), ["prepaid_card_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tticket_worklogs_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "tticket_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("inline", sa.Boolean(), nullable=False),
        sa.Column("content_id", sa.String(length=500), nullable=True),
        sa.Column("uploaded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["tticket_comments.id"],
            name=op.f("fk_tticket_attachments_comment_id_tticket_comments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_tticket_attachments_ticket_id_tticket_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_tticket_attachments_uploaded_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tticket_attachments")),
    )
    with op.batch_alter_table("tticket_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tticket_attachments_sha256"), ["sha256"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tticket_attachments_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "tticket_prepaid_drawdowns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("worklog_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "minutes > 0", name=op.f("ck_tticket_prepaid_drawdowns_minutes_positive")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["tticket_prepaid_cards.id"],
            name=op.f("fk_tticket_prepaid_drawdowns_card_id_tticket_prepaid_cards"),
        ),
        sa.ForeignKeyConstraint(
            ["worklog_id"],
            ["tticket_worklogs.id"],
            name=op.f("fk_tticket_prepaid_drawdowns_worklog_id_tticket_worklogs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tticket_prepaid_drawdowns")),
        sa.UniqueConstraint("worklog_id", name=op.f("uq_tticket_prepaid_drawdowns_worklog_id")),
    )
    with op.batch_alter_table("tticket_prepaid_drawdowns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tticket_prepaid_drawdowns_card_id"), ["card_id"], unique=False
        )

    bind = op.get_bind()
    ddl.create_audit_triggers(bind)
    ddl.create_prepaid_triggers(bind)
    ddl.create_views(bind)
    ddl.create_search_table(bind)
    _seed()


def downgrade() -> None:
    ddl.drop_all(op.get_bind())
    with op.batch_alter_table("tticket_prepaid_drawdowns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_prepaid_drawdowns_card_id"))

    op.drop_table("tticket_prepaid_drawdowns")
    with op.batch_alter_table("tticket_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_attachments_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_tticket_attachments_sha256"))

    op.drop_table("tticket_attachments")
    with op.batch_alter_table("tticket_worklogs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_worklogs_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_tticket_worklogs_prepaid_card_id"))

    op.drop_table("tticket_worklogs")
    with op.batch_alter_table("tticket_ticket_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_ticket_tags_tag"))

    op.drop_table("tticket_ticket_tags")
    with op.batch_alter_table("tticket_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_participants_email"))

    op.drop_table("tticket_participants")
    with op.batch_alter_table("tticket_email_log", schema=None) as batch_op:
        batch_op.drop_index("ix_tticket_email_log_ticket_created")
        batch_op.drop_index(batch_op.f("ix_tticket_email_log_email_message_id"))
        batch_op.drop_index(batch_op.f("ix_tticket_email_log_email_from"))

    op.drop_table("tticket_email_log")
    with op.batch_alter_table("tticket_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_comments_ticket_id"))

    op.drop_table("tticket_comments")
    with op.batch_alter_table("tticket_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tticket_tickets_status_priority")
        batch_op.drop_index(batch_op.f("ix_tticket_tickets_customer_id"))
        batch_op.drop_index(batch_op.f("ix_tticket_tickets_created_at"))
        batch_op.drop_index(batch_op.f("ix_tticket_tickets_contact_id"))
        batch_op.drop_index(batch_op.f("ix_tticket_tickets_assigned_to_user_id"))

    op.drop_table("tticket_tickets")
    op.drop_table("user_groups")
    with op.batch_alter_table("tticket_prepaid_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_prepaid_cards_customer_id"))

    op.drop_table("tticket_prepaid_cards")
    op.drop_table("group_permissions")
    with op.batch_alter_table("customer_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_domains_customer_id"))

    op.drop_table("customer_domains")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_customer_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("tticket_number_counters")
    with op.batch_alter_table("tticket_audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tticket_audit_log_ticket_id"))
        batch_op.drop_index("ix_tticket_audit_log_entity")

    op.drop_table("tticket_audit_log")
    op.drop_table("permissions")
    op.drop_table("groups")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_name"))

    op.drop_table("customers")
