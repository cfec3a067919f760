"""The suite's own PostgreSQL databases (`tests.support.databases`): a database a test gave
back is handed to the next test only if it is exactly what a fresh copy of the template is
(same rows, same sequence values, same schema); one whose schema a test changed is dropped."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from tests.support.api import make_user
from tests.support.databases import Templates, postgres_unavailable_reason, settings_for
from tests.support.mail import raw_mail

pytestmark = pytest.mark.skipif(
    postgres_unavailable_reason() is not None, reason="needs PostgreSQL"
)


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _contents(url: str) -> dict[str, bytes | tuple[object, ...]]:
    """Every table's rows (COPY text, in primary-key order where there is one) and every
    sequence's state."""
    found: dict[str, bytes | tuple[object, ...]] = {}
    with psycopg.connect(_conninfo(url)) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        cursor = connection.cursor()
        for table in tables:
            query = sql.SQL("COPY (SELECT * FROM {} ORDER BY 1) TO STDOUT").format(
                sql.Identifier(table)
            )
            with cursor.copy(query) as copy:
                found[table] = b"".join(bytes(chunk) for chunk in copy)
        for name, last_value, increment in connection.execute(
            "SELECT sequencename, last_value, increment_by FROM pg_sequences ORDER BY 1"
        ):
            found[f"sequence {name}"] = (last_value, increment)
    return found


def test_a_database_given_back_is_the_template_again(templates: Templates, tmp_path: Path) -> None:
    url = templates.lease_postgres()
    fresh = _contents(url)
    runtime = Runtime.build(settings_for(url, tmp_path))
    try:
        make_user(runtime, ["agents"], password="a password")
        assert pipeline.ingest(runtime, raw_mail(), source="test").status == "created"
    finally:
        runtime.close()
    leaked = psycopg.connect(_conninfo(url))  # a connection a test forgot: ended by the reset
    leaked.execute("UPDATE groups SET name = name || '!'")  # a seeded row changed
    leaked.execute("SELECT nextval('groups_id_seq')")
    leaked.commit()
    leaked.execute("SELECT 1")  # open transaction
    used = _contents(url)
    assert used != fresh
    changed = {name for name in fresh if used[name] != fresh[name]}
    assert {"groups", "sequence groups_id_seq", "tticket_tickets", "users"} <= changed

    templates.give_back_postgres(url)
    again = templates.lease_postgres()
    try:
        assert again == url, "a clean database is used again"
        assert _contents(again) == fresh
        with pytest.raises(psycopg.OperationalError):
            leaked.execute("SELECT 1")
    finally:
        leaked.close()
        templates.give_back_postgres(again)


@pytest.mark.parametrize(
    "change",
    [
        "CREATE TABLE left_behind (x integer)",
        "ALTER TABLE tticket_tickets ADD COLUMN extra text",
        "CREATE INDEX extra_index ON users (name)",
        "ALTER TABLE users ALTER COLUMN name DROP NOT NULL",
        "CREATE OR REPLACE FUNCTION extra_function() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
        "ALTER TABLE tticket_audit_log DISABLE TRIGGER USER",
        "ALTER SEQUENCE groups_id_seq INCREMENT BY 2",
    ],
)
def test_a_database_whose_schema_changed_is_dropped(templates: Templates, change: str) -> None:
    url = templates.lease_postgres()
    with psycopg.connect(_conninfo(url)) as connection:
        connection.execute(change)  # type: ignore[arg-type]
    templates.give_back_postgres(url)
    name = make_url(url).database
    with psycopg.connect(_conninfo(templates._pg_url("postgres"))) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        assert exists.fetchone() is None, f"{name} was kept after {change}"
    other = templates.lease_postgres()
    try:
        assert other != url
    finally:
        templates.give_back_postgres(other)
