"""sender opened is_reply: the email log's sender index also holds whether a row is a reply,
so counting the tickets a sender opened since a moment (the new-ticket throttle) reads the
index alone instead of each of the sender's rows of the window as well. Where the limit is
higher than what a bulk chunk reads a sender, a sender with a long import behind it is
counted: 48 % of a batch's time at 910,000 stored emails, the rows read one by one for
`is_reply` (`bench/README.md`, "Issue 9, 2026-12-06").

Revision ID: 0022_sender_opened_is_reply
Revises: 0021_sender_opened_index
"""

from __future__ import annotations

from alembic import op

revision = "0022_sender_opened_is_reply"
down_revision = "0021_sender_opened_index"
branch_labels = None
depends_on = None

NAME = "ix_tticket_email_log_sender_opened"


def _replace(columns: list[str]) -> None:
    op.drop_index(NAME, table_name="tticket_email_log")
    op.create_index(NAME, "tticket_email_log", columns, unique=False)


def upgrade() -> None:
    _replace(["email_from", "direction", "is_reply", "created_at"])


def downgrade() -> None:
    _replace(["email_from", "direction", "created_at"])
