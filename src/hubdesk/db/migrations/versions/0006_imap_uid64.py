"""IMAP UIDVALIDITY and last UID as 64-bit columns

UIDVALIDITY and UIDs are unsigned 32-bit numbers (RFC 3501 2.3.1.1): from 2^31 on they do
not fit a signed 32-bit INTEGER. Until now the upper half was stored as negative numbers;
this revision widens both columns to BIGINT and turns those back into their real values.

It also adds `mailboxes.import_from`: the first poll of a mailbox takes only the mail
delivered from then on (NULL: the mail already in the folder is imported too). Mailboxes
that exist already keep NULL, as they behaved before.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03 21:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hubdesk.db.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_UINT32 = 1 << 32
_INT32_MAX = (1 << 31) - 1
_COLUMNS = (("uidvalidity", True), ("last_uid", False))


def upgrade() -> None:
    with op.batch_alter_table("mailboxes", schema=None) as batch_op:
        for name, nullable in _COLUMNS:
            batch_op.alter_column(
                name,
                existing_type=sa.Integer(),
                type_=sa.BigInteger(),
                existing_nullable=nullable,
            )
        batch_op.add_column(sa.Column("import_from", UTCDateTime(), nullable=True))
    for name, _ in _COLUMNS:
        op.execute(
            sa.text(
                f"UPDATE mailboxes SET {name} = {name} + :shift WHERE {name} < 0"  # noqa: S608
            ).bindparams(shift=_UINT32)
        )


def downgrade() -> None:
    for name, _ in _COLUMNS:
        op.execute(
            sa.text(
                f"UPDATE mailboxes SET {name} = {name} - :shift WHERE {name} > :top"  # noqa: S608
            ).bindparams(shift=_UINT32, top=_INT32_MAX)
        )
    with op.batch_alter_table("mailboxes", schema=None) as batch_op:
        batch_op.drop_column("import_from")
        for name, nullable in _COLUMNS:
            batch_op.alter_column(
                name,
                existing_type=sa.BigInteger(),
                type_=sa.Integer(),
                existing_nullable=nullable,
            )
