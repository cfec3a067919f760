"""redundant indexes: three single-column indexes that a wider index already leads with,
and one that no statement uses.

`ix_tticket_tickets_created_at` (created_at) is `ix_tticket_tickets_created_id` (created_at,
id) less its last column; `ix_tticket_tickets_assigned_to_user_id` leads
`ix_tticket_tickets_assignee_updated` (assigned_to_user_id, updated_at, id), and
`ix_tticket_email_log_inbound_id` leads `uq_tticket_email_log_inbound_ticket` (inbound_id,
ticket_id). Every look-up, order and foreign-key action (ON DELETE SET NULL) either served,
the wider one serves too, on SQLite and PostgreSQL. `ix_inbound_messages_classification`
served nothing: no statement selects or orders ledger rows by their classification (the
triage queue is `queue`, the classifications' history its own table). Each new ticket,
email-log row and ledger row kept one more index up to date for nothing.

Revision ID: 0023_redundant_indexes
Revises: 0022_sender_opened_is_reply
"""

from __future__ import annotations

from alembic import op

revision = "0023_redundant_indexes"
down_revision = "0022_sender_opened_is_reply"
branch_labels = None
depends_on = None

_DROPPED = (
    ("ix_tticket_tickets_created_at", "tticket_tickets", ["created_at"]),
    ("ix_tticket_tickets_assigned_to_user_id", "tticket_tickets", ["assigned_to_user_id"]),
    ("ix_tticket_email_log_inbound_id", "tticket_email_log", ["inbound_id"]),
    ("ix_inbound_messages_classification", "inbound_messages", ["classification"]),
)


def upgrade() -> None:
    for name, table, _columns in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in _DROPPED:
        op.create_index(name, table, columns, unique=False)
