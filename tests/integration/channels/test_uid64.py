"""IMAP UIDVALIDITY and UIDs are unsigned 32-bit: every value up to 4,294,967,295 is stored
and read back as it is, on both databases, and migration 0006 turns the old negative
encoding of the upper half back into the real values."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from hubdesk.channels.imap import leases
from hubdesk.channels.imap import status as mailbox_status
from hubdesk.db.engine import create_db_engine
from hubdesk.db.migrate import upgrade
from hubdesk.mailboxes import service as mailboxes
from hubdesk.mailboxes.models import Mailbox
from hubdesk.users.permissions import SYSTEM
from tests.support.api import Api
from tests.support.empty_databases import empty_database

UINT32_MAX = 4_294_967_295
INT32_MAX = 2_147_483_647


def _imap_mailbox(api: Api) -> int:
    with api.runtime.db.transaction() as session:
        return mailboxes.create_mailbox(
            session,
            SYSTEM,
            name="big",
            addresses=["big@support.example.com"],
            imap_url="imaps://big@imap.example.com/INBOX",
            password_env="BIG_IMAP_PASSWORD",
        ).id


def test_the_largest_uids_round_trip(api: Api) -> None:
    """The poller's checkpoint of UIDVALIDITY 4,294,967,295 and UID 4,294,967,295 (and the
    first value past the signed range) is read back unchanged by the poller and the API."""
    mailbox_id = _imap_mailbox(api)
    db = api.runtime.db
    holder = leases.new_holder()
    assert leases.take(db, mailbox_id, holder, ttl=60) is not None
    for uidvalidity, last_uid in ((INT32_MAX + 1, INT32_MAX + 1), (UINT32_MAX, UINT32_MAX)):
        view = mailbox_status.load(db, mailbox_id)
        assert view is not None
        mailbox_status.save_checkpoint(db, view, holder, uidvalidity, last_uid)
        again = mailbox_status.load(db, mailbox_id)
        assert again is not None
        assert (again.uidvalidity, again.last_uid) == (uidvalidity, last_uid)
        with db.transaction(write=False) as session:
            stored = session.execute(
                sa.select(Mailbox.uidvalidity, Mailbox.last_uid).where(Mailbox.id == mailbox_id)
            ).one()
        assert tuple(stored) == (uidvalidity, last_uid)
        shown = api.ok(api.get(f"/api/v1/mailboxes/{mailbox_id}"))
        assert (shown["uidvalidity"], shown["last_uid"]) == (uidvalidity, last_uid)


def test_migration_0006_restores_the_upper_half(db_kind: str, tmp_path: Path) -> None:
    """Rows written at 0004 with the old signed encoding (-1 meant 4,294,967,295) come out of
    0006 with their real values; small values are untouched; the widened columns then take
    4,294,967,295 directly."""
    with empty_database(db_kind, tmp_path) as url:
        engine = create_db_engine(url)
        try:
            upgrade(engine, "0004")
            columns = (
                "id, name, enabled, processed_action, oversized_action, uidvalidity, last_uid, "
                "state, created_at, updated_at"
            )
            with engine.begin() as connection:
                for row_id, uidvalidity, last_uid in ((1, -1, -2), (2, 7, 42), (3, None, 0)):
                    connection.execute(
                        sa.text(
                            f"INSERT INTO mailboxes ({columns}) VALUES (:id, :name, true, "  # noqa: S608
                            "'seen', 'leave', :uidvalidity, :last_uid, 'unknown', "
                            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                        ),
                        {
                            "id": row_id,
                            "name": f"m{row_id}",
                            "uidvalidity": uidvalidity,
                            "last_uid": last_uid,
                        },
                    )
            upgrade(engine, "0006")
            with engine.begin() as connection:
                connection.execute(
                    sa.text("UPDATE mailboxes SET uidvalidity = :v, last_uid = :v WHERE id = 2"),
                    {"v": UINT32_MAX},
                )
                rows = connection.execute(
                    sa.text("SELECT id, uidvalidity, last_uid FROM mailboxes ORDER BY id")
                ).all()
            assert [tuple(row) for row in rows] == [
                (1, UINT32_MAX, UINT32_MAX - 1),
                (2, UINT32_MAX, UINT32_MAX),
                (3, None, 0),
            ]
            types = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("mailboxes")}
            assert isinstance(types["uidvalidity"], sa.BigInteger)
            assert isinstance(types["last_uid"], sa.BigInteger)
        finally:
            engine.dispose()
