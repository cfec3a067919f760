"""workflows, classifier, mailboxes, outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 23:26:43.258434
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import JSONValue, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# The auto-reply as shipped, in both languages. It carries only the ticket number: no text of
# the sender's message ever goes back out (relay spam).
TEMPLATES = [
    {
        "key": "auto_reply",
        "language": "en",
        "subject": "[{ticket_number}] We have received your request",
        "body": (
            "Hello,\n\n"
            "Thank you for writing to us. Your request is registered as {ticket_number}.\n"
            "Please keep [{ticket_number}] in the subject if you write to us about it again.\n\n"
            "This is an automatic reply; there is no need to answer it.\n"
        ),
    },
    {
        "key": "auto_reply",
        "language": "da",
        "subject": "[{ticket_number}] Vi har modtaget din henvendelse",
        "body": (
            "Hej\n\n"
            "Tak for din henvendelse. Den er registreret som {ticket_number}.\n"
            "Bevar venligst [{ticket_number}] i emnefeltet, hvis du skriver til os om den igen.\n\n"
            "Dette er et automatisk svar; du behøver ikke at svare på det.\n"
        ),
    },
]


def upgrade() -> None:
    op.create_table(
        "address_flags",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("bouncing", sa.Boolean(), nullable=False),
        sa.Column("bounce_count", sa.Integer(), nullable=False),
        sa.Column("last_bounce_at", UTCDateTime(), nullable=True),
        sa.Column("last_bounce_reason", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_address_flags")),
    )
    op.create_table(
        "classifier_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("labels", JSONValue(), nullable=False),
        sa.Column("metrics", JSONValue(), nullable=False),
        sa.Column("training", JSONValue(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifier_models")),
        sa.UniqueConstraint("version", name=op.f("uq_classifier_models_version")),
    )
    with op.batch_alter_table("classifier_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classifier_models_active"), ["active"], unique=False)

    op.create_table(
        "email_workflows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("classification_trigger", sa.String(length=64), nullable=False),
        sa.Column("confidence_threshold", sa.Float(), nullable=False),
        sa.Column("workflow_steps", JSONValue(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stop_after_match", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "confidence_threshold >= 0 AND confidence_threshold <= 1",
            name=op.f("ck_email_workflows_threshold"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_workflows")),
        sa.UniqueConstraint("name", name=op.f("uq_email_workflows_name")),
    )
    with op.batch_alter_table("email_workflows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_workflows_classification_trigger"),
            ["classification_trigger"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_email_workflows_position"), ["position"], unique=False)

    op.create_table(
        "mail_templates",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("key", "language", name=op.f("pk_mail_templates")),
    )
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("imap_url", sa.String(length=500), nullable=True),
        sa.Column("password_env", sa.String(length=200), nullable=True),
        sa.Column("processed_action", sa.String(length=16), nullable=False),
        sa.Column("processed_folder", sa.String(length=200), nullable=True),
        sa.Column("oversized_action", sa.String(length=16), nullable=False),
        sa.Column("oversized_folder", sa.String(length=200), nullable=True),
        sa.Column("uidvalidity", sa.Integer(), nullable=True),
        sa.Column("last_uid", sa.Integer(), nullable=False),
        sa.Column("lease_holder", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "oversized_action IN ('leave', 'move')", name=op.f("ck_mailboxes_oversized_action")
        ),
        sa.CheckConstraint(
            "processed_action IN ('seen', 'move', 'delete')",
            name=op.f("ck_mailboxes_processed_action"),
        ),
        sa.CheckConstraint(
            "state IN ('unknown', 'ok', 'error', 'disabled')", name=op.f("ck_mailboxes_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("name", name=op.f("uq_mailboxes_name")),
    )
    op.create_table(
        "mailbox_addresses",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_mailbox_addresses_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_mailbox_addresses")),
    )
    with op.batch_alter_table("mailbox_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mailbox_addresses_mailbox_id"), ["mailbox_id"], unique=False
        )

    op.create_table(
        "email_workflow_executions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=True),
        sa.Column("workflow_name", sa.String(length=200), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("classification", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step_results", JSONValue(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("retry_of_id", sa.Integer(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'skipped')",
            name=op.f("ck_email_workflow_executions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_messages.id"],
            name=op.f("fk_email_workflow_executions_inbound_id_inbound_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["retry_of_id"],
            ["email_workflow_executions.id"],
            name=op.f("fk_email_workflow_executions_retry_of_id_email_workflow_executions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_email_workflow_executions_ticket_id_tticket_tickets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["email_workflows.id"],
            name=op.f("fk_email_workflow_executions_workflow_id_email_workflows"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_workflow_executions")),
    )
    with op.batch_alter_table("email_workflow_executions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_workflow_executions_inbound_id"), ["inbound_id"], unique=False
        )
        batch_op.create_index(
            "ix_email_workflow_executions_status_created", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_email_workflow_executions_workflow_created",
            ["workflow_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "inbound_classifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("reasons", JSONValue(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_inbound_classifications_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_id"],
            ["inbound_messages.id"],
            name=op.f("fk_inbound_classifications_inbound_id_inbound_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_classifications")),
    )
    with op.batch_alter_table("inbound_classifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbound_classifications_inbound", ["inbound_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_classifications_label"), ["label"], unique=False
        )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("recipients", JSONValue(), nullable=False),
        sa.Column("envelope_from", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("bounced_at", UTCDateTime(), nullable=True),
        sa.Column("email_log_id", sa.Integer(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("meta", JSONValue(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('auto_reply', 'agent_reply', 'notification', 'notice')",
            name=op.f("ck_outbox_messages_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'bounced', 'held', 'suppressed')",
            name=op.f("ck_outbox_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_outbox_messages_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["email_log_id"],
            ["tticket_email_log.id"],
            name=op.f("fk_outbox_messages_email_log_id_tticket_email_log"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tticket_tickets.id"],
            name=op.f("fk_outbox_messages_ticket_id_tticket_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_kind_recipient_created",
            ["kind", "recipient", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_messages_status_next", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "outbox_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("smtp_code", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox_messages.id"],
            name=op.f("fk_outbox_attempts_outbox_id_outbox_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attempts")),
    )
    with op.batch_alter_table("outbox_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_attempts_outbox_id"), ["outbox_id"], unique=False
        )

    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classification", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("classification_confidence", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("queue", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("mailbox_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_inbound_messages_classification"), ["classification"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbound_messages_mailbox_id"), ["mailbox_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inbound_messages_queue"), ["queue"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_messages_mailbox_id_mailboxes"),
            "mailboxes",
            ["mailbox_id"],
            ["id"],
            ondelete="SET NULL",
        )

    templates = sa.table(
        "mail_templates",
        sa.column("key"),
        sa.column("language"),
        sa.column("subject"),
        sa.column("body"),
        sa.column("updated_at", UTCDateTime()),
        sa.column("updated_by"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        templates, [{**t, "updated_at": now, "updated_by": "migration 0004"} for t in TEMPLATES]
    )


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_inbound_messages_mailbox_id_mailboxes"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_inbound_messages_queue"))
        batch_op.drop_index(batch_op.f("ix_inbound_messages_mailbox_id"))
        batch_op.drop_index(batch_op.f("ix_inbound_messages_classification"))
        batch_op.drop_column("mailbox_id")
        batch_op.drop_column("queue")
        batch_op.drop_column("classification_confidence")
        batch_op.drop_column("classification")

    with op.batch_alter_table("outbox_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_attempts_outbox_id"))

    op.drop_table("outbox_attempts")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_ticket_id"))
        batch_op.drop_index("ix_outbox_messages_status_next")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_message_id"))
        batch_op.drop_index("ix_outbox_messages_kind_recipient_created")

    op.drop_table("outbox_messages")
    with op.batch_alter_table("inbound_classifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_classifications_label"))
        batch_op.drop_index("ix_inbound_classifications_inbound")

    op.drop_table("inbound_classifications")
    with op.batch_alter_table("email_workflow_executions", schema=None) as batch_op:
        batch_op.drop_index("ix_email_workflow_executions_workflow_created")
        batch_op.drop_index("ix_email_workflow_executions_status_created")
        batch_op.drop_index(batch_op.f("ix_email_workflow_executions_inbound_id"))

    op.drop_table("email_workflow_executions")
    with op.batch_alter_table("mailbox_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailbox_addresses_mailbox_id"))

    op.drop_table("mailbox_addresses")
    op.drop_table("mailboxes")
    op.drop_table("mail_templates")
    with op.batch_alter_table("email_workflows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_workflows_position"))
        batch_op.drop_index(batch_op.f("ix_email_workflows_classification_trigger"))

    op.drop_table("email_workflows")
    with op.batch_alter_table("classifier_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classifier_models_active"))

    op.drop_table("classifier_models")
    op.drop_table("address_flags")
