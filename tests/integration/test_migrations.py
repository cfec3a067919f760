"""Migrations build the whole schema from nothing, on both databases, and keep data intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine

from hubdesk.db import ddl, schema_version
from hubdesk.db.engine import create_db_engine
from hubdesk.db.migrate import current_revision, head_revision, upgrade
from hubdesk.db.uow import Database
from hubdesk.models import Base
from tests.support import factories
from tests.support.empty_databases import empty_database

SPEC_EMAIL_LOG_SQL = (
    "SELECT * FROM tticket_email_log WHERE ticket_id = 42 ORDER BY created_at DESC;"
)


def _trigger_names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        return set(connection.exec_driver_sql(sql).scalars())


def test_upgrade_builds_every_table_trigger_and_view_from_empty(
    db_kind: str, tmp_path: Path
) -> None:
    """`upgrade` on an empty database reaches head with every ORM table and column, and the
    audit and prepaid triggers and reporting views still exist after ALL migrations (SQLite
    batch migrations drop a table's triggers when they recreate it)."""
    with empty_database(db_kind, tmp_path) as url:
        engine = create_db_engine(url)
        try:
            assert current_revision(engine) is None
            assert schema_version.current(engine) is None
            assert schema_version.behind(engine) == (
                f"the database is at revision none, not the latest ({schema_version.HEAD}); "
                "run 'hubdesk db upgrade' first"
            )
            upgrade(engine)
            assert current_revision(engine) == head_revision()
            assert schema_version.current(engine) == head_revision()
            assert schema_version.behind(engine) is None
            inspector = sa.inspect(engine)
            tables = set(inspector.get_table_names())
            missing_columns = {}
            for table in Base.metadata.sorted_tables:
                assert table.name in tables, f"table {table.name} was not created"
                have = {column["name"] for column in inspector.get_columns(table.name)}
                if missing := {c.name for c in table.columns} - have:
                    missing_columns[table.name] = sorted(missing)
            assert missing_columns == {}
            triggers = _trigger_names(engine)
            expected = set(ddl.AUDIT_TRIGGERS) | set(ddl.PREPAID_TRIGGERS)
            if db_kind == "postgresql":
                expected.add("tticket_audit_log_no_truncate")
            assert expected <= triggers, f"missing triggers: {sorted(expected - triggers)}"
            assert set(ddl.VIEWS) <= set(inspector.get_view_names())
            with engine.connect() as connection:
                assert connection.exec_driver_sql(SPEC_EMAIL_LOG_SQL).all() == []
                groups = connection.exec_driver_sql("SELECT name FROM groups").scalars().all()
            assert sorted(groups) == ["admins", "agents", "readonly"]
            upgrade(engine)  # running it again at head is a no-op
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()


def test_spec_email_log_query_runs_as_written(db: Database) -> None:
    """The spec's `SELECT * FROM tticket_email_log WHERE ticket_id = 42 ORDER BY created_at
    DESC;` runs verbatim and returns that ticket's rows, newest first."""
    with db.transaction() as session:
        other = factories.ticket(session)
        session.execute(
            sa.text(
                "INSERT INTO tticket_tickets (id, ticket_number, subject, description, status, "
                "priority, custom_fields, source, created_at, updated_at) VALUES (42, "
                "'TKT-20251215-042', 'Spec', '', 'open', 'normal', '{}', 'api', :now, :now)"
            ),
            {"now": datetime(2025, 12, 15, tzinfo=UTC)},
        )
        base = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)
        for ticket_id, minutes, message_id in (
            (42, 0, "<first@example.com>"),
            (42, 30, "<third@example.com>"),
            (42, 10, "<second@example.com>"),
            (other.id, 60, "<other@example.com>"),
        ):
            session.execute(
                sa.text(
                    "INSERT INTO tticket_email_log (ticket_id, email_message_id, email_from, "
                    "is_reply, created_at, direction, decision, reason) "
                    "VALUES (:t, :m, 'kunde@example.com', false, :c, 'inbound', 'new', '')"
                ),
                {"t": ticket_id, "m": message_id, "c": base + timedelta(minutes=minutes)},
            )
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(SPEC_EMAIL_LOG_SQL).mappings().all()
    assert [row["email_message_id"] for row in rows] == [
        "<third@example.com>",
        "<second@example.com>",
        "<first@example.com>",
    ]


_ROWS_AT_0001 = (
    "INSERT INTO customers (id, name, notes, active, created_at, updated_at) "
    "VALUES (1, 'Acme', '', true, :now, :now)",
    "INSERT INTO tticket_tickets (id, ticket_number, subject, description, status, priority, "
    "customer_id, custom_fields, source, created_at, updated_at) VALUES "
    "(1, 'TKT-20251215-001', 'Printer', '', 'open', 'normal', 1, '{}', 'api', :now, :now)",
    "INSERT INTO tticket_comments (id, ticket_id, body, is_internal, source, created_at) "
    "VALUES (1, 1, 'It smokes', false, 'api', :now)",
    "INSERT INTO tticket_attachments (id, ticket_id, comment_id, filename, content_type, size, "
    "sha256, inline, created_at) VALUES (1, 1, 1, 'photo.jpg', 'image/jpeg', 3, "
    "'0000000000000000000000000000000000000000000000000000000000000000', false, :now)",
    "INSERT INTO tticket_email_log (id, ticket_id, email_message_id, email_from, is_reply, "
    "created_at, direction, decision, reason) VALUES "
    "(1, 1, '<a@example.com>', 'kunde@example.com', false, :now, 'inbound', 'new', '')",
    "INSERT INTO tticket_prepaid_cards (id, customer_id, hours_bought, price, currency, "
    "bought_on, status, minutes_used, notes, created_at) VALUES "
    "(1, 1, 1, 0, 'DKK', '2025-12-15', 'active', 0, '', :now)",
    "INSERT INTO tticket_worklogs (id, ticket_id, work_date, minutes, description, billable, "
    "billing, prepaid_card_id, created_at) VALUES "
    "(1, 1, '2025-12-15', 20, '', true, 'prepaid', 1, :now)",
    "INSERT INTO tticket_prepaid_drawdowns (id, card_id, worklog_id, minutes, created_at) "
    "VALUES (1, 1, 1, 20, :now)",
)


def test_later_migrations_keep_existing_rows_and_their_links(db_kind: str, tmp_path: Path) -> None:
    """Rows written at revision 0001 survive every later migration with their foreign keys
    intact: recreating a parent table (SQLite batch mode) must not fire ON DELETE actions
    on its children, and the prepaid ledger still balances."""
    with empty_database(db_kind, tmp_path) as url:
        engine = create_db_engine(url)
        try:
            upgrade(engine, "0001")
            now = datetime(2025, 12, 15, 9, 0, tzinfo=UTC).replace(tzinfo=None)
            with engine.begin() as connection:
                for statement in _ROWS_AT_0001:
                    connection.execute(sa.text(statement), {"now": now})
            upgrade(engine)
            with engine.connect() as connection:
                attachment = connection.exec_driver_sql(
                    "SELECT ticket_id, comment_id FROM tticket_attachments WHERE id = 1"
                ).one()
                card = connection.exec_driver_sql(
                    "SELECT minutes_used FROM tticket_prepaid_cards WHERE id = 1"
                ).scalar_one()
                counts = {
                    table: connection.exec_driver_sql(
                        f"SELECT COUNT(*) FROM {table}"  # noqa: S608 (names from the tuple below)
                    ).scalar_one()
                    for table in (
                        "tticket_comments",
                        "tticket_email_log",
                        "tticket_worklogs",
                        "tticket_prepaid_drawdowns",
                    )
                }
                if db_kind == "sqlite":
                    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
                    assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert tuple(attachment) == (1, 1)
            assert card == 20
            assert counts == dict.fromkeys(counts, 1)
        finally:
            engine.dispose()
