"""Test databases: one fresh, migrated database per test on SQLite and on PostgreSQL.

Migrations run once per test session into a template (a file on SQLite, a template database
on PostgreSQL); each test gets a copy, so tests never see each other's rows and two test runs
at once never collide (names carry the pid and a random part). Databases are dropped after.

On PostgreSQL, `CREATE DATABASE ... TEMPLATE` and `DROP DATABASE` each force a checkpoint and
cost 0.3-2 s (more when other work keeps the server busy), against about 25 ms to put a used
database back as the template left it. So the `database_url` fixture leases: after a test its
database is reset to the template's exact state and handed to the next test of this process:
every other connection to it is ended, every table the test wrote is emptied, the tables the
migrations seeded get the template's rows back (`COPY`), and every sequence its template value.
A database whose schema the test changed in any way (a table, column, index, constraint,
trigger, function, view, type, sequence definition, grant or setting differs from the
template's catalog fingerprint), or whose reset fails, is dropped instead, and the next test
gets a fresh copy. `postgres_copy()` still hands out a fresh copy for tests that take a
database away (an outage, a relay in front of it).
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import make_url

from hubdesk.config import Settings
from hubdesk.db.engine import create_db_engine
from hubdesk.db.migrate import upgrade

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def settings_for(database_url: str, directory: Path) -> Settings:
    """The settings every test runtime uses: this database, a data dir under `directory`,
    no `.env` read."""
    return Settings(
        database_url=database_url,
        data_dir=directory / "data",
        secret_key="test-secret-key-" + "x" * 32,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )


def pg_admin_url() -> str:
    url = os.environ.get("HUBDESK_TEST_DATABASE_URL", DEFAULT_PG_URL)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def postgres_unavailable_reason() -> str | None:
    """None when the test PostgreSQL answers, else why not."""
    try:
        engine = create_db_engine(pg_admin_url())
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means "not reachable" for the suite's purposes
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
    return None


def _admin_execute(statement: str) -> None:
    engine = create_db_engine(pg_admin_url())
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_SCHEMA_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (
  SELECT 'n' || n.oid || n.nspname || coalesce(n.nspacl::text, '') AS item FROM pg_namespace n
    WHERE n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  UNION ALL SELECT 'c' || c.oid || c.relname || c.relkind::text || c.relnamespace
      || c.relrowsecurity || coalesce(c.relacl::text, '') || coalesce(c.reloptions::text, '')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
  UNION ALL SELECT 'a' || a.attrelid || a.attnum || a.attname || a.atttypid || a.atttypmod
      || a.attnotnull || a.attisdropped || a.atthasdef || coalesce(a.attacl::text, '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND a.attnum > 0
  UNION ALL SELECT 'd' || d.oid || md5(pg_get_expr(d.adbin, d.adrelid)) FROM pg_attrdef d
  UNION ALL SELECT 'k' || k.oid || k.conname || md5(pg_get_constraintdef(k.oid))
    FROM pg_constraint k WHERE k.connamespace = 'public'::regnamespace
  UNION ALL SELECT 'i' || i.indexrelid || md5(pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT 't' || t.oid || t.tgname || t.tgenabled::text FROM pg_trigger t
    WHERE NOT t.tgisinternal
  UNION ALL SELECT 'r' || r.oid || md5(r.ev_action::text) FROM pg_rewrite r
    JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = 'public'::regnamespace
  UNION ALL SELECT 'p' || p.oid || p.proname || md5(coalesce(p.prosrc, ''))
      || coalesce(p.proacl::text, '')
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
  UNION ALL SELECT 'y' || t.oid || t.typname FROM pg_type t
    WHERE t.typnamespace = 'public'::regnamespace
  UNION ALL SELECT 'e' || e.oid || e.enumlabel FROM pg_enum e
  UNION ALL SELECT 's' || s.seqrelid || s.seqtypid || s.seqstart || s.seqincrement || s.seqmax
      || s.seqmin || s.seqcache || s.seqcycle FROM pg_sequence s
  UNION ALL SELECT 'x' || x.oid || x.extname || x.extversion FROM pg_extension x
  UNION ALL SELECT 'o' || o.oid || o.polname FROM pg_policy o
  UNION ALL SELECT 'g' || coalesce(g.setconfig::text, '') FROM pg_db_role_setting g
    WHERE g.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) catalog
"""


@dataclass(frozen=True)
class _Snapshot:
    """What a reset restores: the template's seeded rows, sequences and schema fingerprint."""

    empty_tables: tuple[str, ...]
    seeded: tuple[tuple[str, bytes], ...]
    """(table, its rows in COPY's text format), in the template's table order."""
    sequences: tuple[tuple[str, int, bool], ...]
    """(qualified name, value, is_called) as `setval` takes them."""
    fingerprint: str

    @classmethod
    def take(cls, conninfo: str) -> _Snapshot:
        with psycopg.connect(conninfo) as connection:
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                )
            ]
            empty: list[str] = []
            seeded: list[tuple[str, bytes]] = []
            cursor = connection.cursor()
            for table in tables:
                with cursor.copy(
                    sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))
                ) as copy:
                    rows = b"".join(bytes(chunk) for chunk in copy)
                if rows:
                    seeded.append((table, rows))
                else:
                    empty.append(table)
            sequences = [
                (str(name), int(value), bool(called))
                for name, value, called in connection.execute(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), "
                    "coalesce(last_value, start_value), last_value IS NOT NULL "
                    "FROM pg_sequences ORDER BY 1"
                )
            ]
            row = connection.execute(_SCHEMA_FINGERPRINT).fetchone()
            assert row is not None
        return cls(tuple(empty), tuple(seeded), tuple(sequences), str(row[0]))

    def reset(self, conninfo: str) -> bool:
        """Put the database back as the template left it; False when its schema differs
        (then nothing was changed and it must be dropped)."""
        with psycopg.connect(conninfo) as connection:
            # Ended, and waited for (up to 10 s each), so none holds a lock or writes later.
            ended = connection.execute(
                "SELECT coalesce(bool_and(pg_terminate_backend(pid, 10000)), true) "
                "FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            if ended is None or not ended[0]:
                return False
            row = connection.execute(_SCHEMA_FINGERPRINT).fetchone()
            if row is None or row[0] != self.fingerprint:
                return False
            # Triggers off (the audit log refuses DELETE; foreign keys are triggers too).
            connection.execute("SET LOCAL session_replication_role = replica")
            probe = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {} WHERE EXISTS (SELECT FROM {})").format(index, sql.Identifier(t))
                for index, t in enumerate(self.empty_tables)
            )
            written = (
                [self.empty_tables[index] for (index,) in connection.execute(probe)]
                if self.empty_tables
                else []
            )
            cursor = connection.cursor()
            for table in written:
                cursor.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            for table, rows in self.seeded:
                cursor.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
                with cursor.copy(
                    sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))
                ) as copy:
                    copy.write(rows)
            if self.sequences:
                cursor.execute(
                    sql.SQL("SELECT {}").format(
                        sql.SQL(", ").join(
                            sql.SQL("setval({}::regclass, {}, {})").format(*sequence)
                            for sequence in self.sequences
                        )
                    )
                )
        return True


@dataclass
class Templates:
    """Lazily migrated templates, one per database kind, for this test process."""

    workdir: Path
    prefix: str = field(
        default_factory=lambda: f"hubdesk_test_{os.getpid()}_{secrets.token_hex(3)}"
    )
    _sqlite: Path | None = None
    _pg: str | None = None
    _counter: int = 0
    _snapshot: _Snapshot | None = None
    _idle_pg: list[str] = field(default_factory=list)
    """Used databases reset to the template's state, ready for the next test."""
    created_pg: list[str] = field(default_factory=list)

    def sqlite_copy(self, destination: Path) -> str:
        if self._sqlite is None:
            template = self.workdir / "template.db"
            engine = create_db_engine(f"sqlite:///{template}")
            upgrade(engine)
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            self._sqlite = template
        shutil.copyfile(self._sqlite, destination)
        return f"sqlite:///{destination}"

    def postgres_copy(self) -> str:
        if self._pg is None:
            name = f"{self.prefix}_tpl"
            _admin_execute(f'CREATE DATABASE "{name}"')
            self.created_pg.append(name)
            engine = create_db_engine(self._pg_url(name))
            upgrade(engine)
            engine.dispose()
            self._snapshot = _Snapshot.take(_libpq(self._pg_url(name)))
            self._pg = name
        self._counter += 1
        name = f"{self.prefix}_{self._counter}"
        # FILE_COPY clones a small database several times faster than WAL_LOG (PG 15+).
        _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg}" STRATEGY FILE_COPY')
        return self._pg_url(name)

    def lease_postgres(self) -> str:
        """A database at the template's state: a used one reset, or else a fresh copy."""
        if self._idle_pg:
            return self._idle_pg.pop()
        return self.postgres_copy()

    def give_back_postgres(self, url: str) -> None:
        """Reset a leased database for the next test; drop it if it cannot be reset."""
        assert self._snapshot is not None
        try:
            clean = self._snapshot.reset(_libpq(url))
        except psycopg.Error:
            clean = False
        if clean:
            self._idle_pg.append(url)
        else:
            self.drop_postgres(url)

    def drop_postgres(self, url: str) -> None:
        name = make_url(url).database
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def cleanup(self) -> None:
        """Drop every database of this run: the copies (idle, or still leased by a test that
        failed before giving it back), then the template."""
        self._idle_pg.clear()
        if self._counter:
            engine = create_db_engine(pg_admin_url())
            try:
                with engine.connect() as connection:
                    copies = connection.execute(
                        sa.text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                        {"pattern": self.prefix.replace("_", "\\_") + "\\_%"},
                    ).scalars()
                    names = [name for name in copies if name not in self.created_pg]
            finally:
                engine.dispose()
            for name in names:
                _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for name in reversed(self.created_pg):
            _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @staticmethod
    def _pg_url(name: str) -> str:
        return make_url(pg_admin_url()).set(database=name).render_as_string(hide_password=False)
