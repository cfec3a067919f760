"""Issue 9: a small message's raw bytes kept in its ledger row (`inbound_messages.raw_inline`)
and a small attachment in its row (`tticket_attachments.data_inline`) instead of blob files;
larger ones in the blob store as before; both read back the same way, checked against their
sha256 (HUBDESK_INLINE_MAX_BYTES)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from hubdesk.db.engine import create_db_engine
from hubdesk.db.migrate import alembic_config, upgrade
from hubdesk.errors import DatabaseUnavailable, StorageError, is_disk_full
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import bulk
from hubdesk.intake.sources import Source
from hubdesk.runtime import Runtime
from hubdesk.tickets import attachments
from hubdesk.tickets.models import Attachment
from tests.support.api import Api
from tests.support.empty_databases import empty_database
from tests.support.factories import stored_raw
from tests.support.mail import raw_mail

ONE_BATCH = bulk.BatchLimits(messages=100, bytes=1 << 30, seconds=600)


def _ingest(runtime: Runtime, *raws: bytes) -> list[int]:
    sources = [Source(f"m{i}", (lambda raw=raw: raw)) for i, raw in enumerate(raws)]
    ids = [outcome.inbound_id for _source, outcome in bulk.ingest_bulk(runtime, sources, ONE_BATCH)]
    assert all(isinstance(i, int) for i in ids)
    return ids  # type: ignore[return-value]


def _row(runtime: Runtime, inbound_id: int) -> tuple[str, bytes | None]:
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        return row.raw_sha256, row.raw_inline


def test_a_batch_keeps_small_mail_in_its_row_and_large_mail_in_the_store(api: Api) -> None:
    """At the limit a message is kept in its row (no blob file); one byte over, in the blob
    store (no bytes in the row). Both are processed and served unchanged by the ledger's
    raw download."""
    runtime = api.runtime
    limit = runtime.settings.inline_max_bytes
    small = raw_mail(subject="Small")
    # a fixed Message-ID: make_msgid's random part varies in length from call to call
    at_limit = raw_mail(subject="At the limit", body="", message_id="<at-limit@example.com>")
    padding = limit - len(at_limit)
    at_limit = at_limit.replace(
        b"\r\n\r\n", b"\r\nX-Pad: " + b"p" * (padding - 10) + b"\r\n\r\n", 1
    )
    at_limit += b"q" * (limit - len(at_limit))
    over = at_limit + b"r"
    assert (len(at_limit), len(over)) == (limit, limit + 1)
    ids = _ingest(runtime, small, at_limit, over)
    for inbound_id, raw in zip(ids[:2], (small, at_limit), strict=True):
        digest, inline = _row(runtime, inbound_id)
        assert inline == raw
        assert not runtime.blobs.exists(digest), "no blob file for a message kept in its row"
    digest, inline = _row(runtime, ids[2])
    assert inline is None
    assert runtime.blobs.read(digest) == over
    for inbound_id, raw in zip(ids, (small, at_limit, over), strict=True):
        assert stored_raw(runtime, inbound_id) == raw
        download = api.get(f"/api/v1/inbound/{inbound_id}/raw")
        assert download.status_code == 200
        assert download.content == raw
    with runtime.db.transaction(write=False) as session:
        statuses = session.scalars(select(InboundMessage.status).order_by(InboundMessage.id))
        assert list(statuses) == ["processed"] * 3


def test_a_limit_of_zero_keeps_every_raw_message_in_the_store(runtime: Runtime) -> None:
    """HUBDESK_INLINE_MAX_BYTES=0: the batch paths keep every message in the blob store."""
    settings = runtime.settings.model_copy(update={"inline_max_bytes": 0})
    store_only = replace(runtime, settings=settings)
    raw = raw_mail(subject="Into the store")
    [inbound_id] = _ingest(store_only, raw)
    digest, inline = _row(runtime, inbound_id)
    assert inline is None
    assert runtime.blobs.read(digest) == raw


def test_bytes_in_a_row_that_no_longer_match_their_sha256_are_refused(runtime: Runtime) -> None:
    """Bytes kept in a row are checked like a blob: a change makes reading them fail with
    a StorageError that says so, never returns the changed bytes."""
    [inbound_id] = _ingest(runtime, raw_mail(subject="Checked"))
    with runtime.db.transaction() as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None
        assert row.raw_inline is not None
        row.raw_inline = row.raw_inline.replace(b"Checked", b"Changed")
    with pytest.raises(StorageError, match="do not match their sha256"):
        stored_raw(runtime, inbound_id)


def _fill_until_refused(connection: sa.Connection) -> sa.exc.OperationalError:
    """Rows into a database that may not grow past 8 pages, until SQLite refuses one."""
    connection.exec_driver_sql("PRAGMA max_page_count = 8")
    connection.commit()  # the PRAGMA began the connection's transaction
    for _ in range(100):
        try:
            with connection.begin():
                connection.exec_driver_sql("INSERT INTO t VALUES (randomblob(4000))")
        except sa.exc.OperationalError as exc:
            return exc
    raise AssertionError("the database took 100 rows of 4,000 bytes in 8 pages")


def test_a_full_sqlite_database_counts_as_a_full_disk(tmp_path: Path) -> None:
    """A database that cannot grow is a full disk (452, 503, exit 75 "the disk is full"),
    seen through SQLAlchemy's error and the DatabaseUnavailable that carries it; a locked
    database is not."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'small.db'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (data BLOB)")
        with engine.connect() as connection:
            full = _fill_until_refused(connection)
    finally:
        engine.dispose()
    assert is_disk_full(full)
    wrapped = DatabaseUnavailable("the database is unavailable")
    wrapped.__cause__ = full
    assert is_disk_full(wrapped)
    assert not is_disk_full(sa.exc.OperationalError("x", {}, sqlite3.OperationalError("locked")))
    assert is_disk_full(psycopg.errors.DiskFull("could not extend file"))
    assert not is_disk_full(psycopg.errors.LockNotAvailable("lock timeout"))


def test_downgrading_past_the_column_refuses_while_rows_hold_bytes(
    db_kind: str, tmp_path: Path
) -> None:
    """The column holds the only copy of those bytes: the downgrade stops with a sentence
    that says so, and goes through once no row holds any."""
    with empty_database(db_kind, tmp_path) as url:
        engine = create_db_engine(url)
        config = alembic_config()
        try:
            upgrade(engine)
            with engine.begin() as connection:
                connection.execute(
                    sa.insert(InboundMessage.__table__).values(
                        source="t", raw_sha256="0" * 64, size=1, raw_inline=b"x"
                    )
                )
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                with pytest.raises(
                    RuntimeError, match="1 rows of inbound_messages keep their bytes"
                ):
                    command.downgrade(config, "0018_worklog_report_index")
            with engine.begin() as connection:
                connection.execute(sa.update(InboundMessage.__table__).values(raw_inline=None))
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "0018_worklog_report_index")
            columns = {c["name"] for c in sa.inspect(engine).get_columns("inbound_messages")}
            assert "raw_inline" not in columns
        finally:
            engine.dispose()


def test_postgresql_compresses_the_bytes_in_rows_with_lz4(db_kind: str, tmp_path: Path) -> None:
    """pglz made a bulk chunk's ledger INSERT twice as slow (migration 0020): on PostgreSQL
    the columns are compressed with lz4 once migrated and with the default again after a
    downgrade; on SQLite the migration changes nothing. A row's bytes read back unchanged."""
    postgres = db_kind == "postgresql"
    with empty_database(db_kind, tmp_path) as url:
        engine = create_db_engine(url)
        config = alembic_config()
        try:
            upgrade(engine)
            if postgres:
                assert set(_compression(engine).values()) == {"l"}
            mail = raw_mail(body="A long report.\n" * 2000)
            with engine.begin() as connection:
                connection.execute(
                    sa.insert(InboundMessage.__table__).values(
                        source="t", raw_sha256="0" * 64, size=len(mail), raw_inline=mail
                    )
                )
            with engine.connect() as connection:
                kept = connection.scalar(sa.select(InboundMessage.__table__.c.raw_inline))
                how = connection.scalar(_HOW) if postgres else None
            assert (bytes(kept), how) == (mail, "lz4" if postgres else None)
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "0019_inline_bytes")
            if postgres:
                assert set(_compression(engine).values()) == {""}  # the server's default
        finally:
            engine.dispose()


_COMPRESSION = sa.text(
    "SELECT attrelid::regclass::text, attname, attcompression FROM pg_attribute "
    "WHERE (attrelid::regclass::text, attname) IN "
    "(('inbound_messages', 'raw_inline'), ('tticket_attachments', 'data_inline'))"
)
_HOW = sa.text("SELECT pg_column_compression(raw_inline) FROM inbound_messages")


def _compression(engine: sa.Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as connection:
        return {(t, c): how for t, c, how in connection.execute(_COMPRESSION)}


def test_a_small_attachment_is_kept_in_its_row_and_a_large_one_in_the_store(api: Api) -> None:
    """Both files of one mail are downloaded unchanged; only the large one has a blob, and
    the small one's bytes are checked against its sha256 when read."""
    runtime = api.runtime
    limit = runtime.settings.inline_max_bytes
    small, large = b"%PDF-1.4 small", b"%PDF-1.4 " + b"L" * limit
    raw = raw_mail(
        subject="Two files",
        attachments=[
            ("small.pdf", "application/pdf", small),
            ("large.pdf", "application/pdf", large),
        ],
    )
    _ingest(runtime, raw)
    with runtime.db.transaction(write=False) as session:
        rows = {a.filename: a for a in session.scalars(select(Attachment))}
        kept = {name: (row.id, row.sha256, row.data_inline) for name, row in rows.items()}
    assert kept["small.pdf"][2] == small
    assert not runtime.blobs.exists(kept["small.pdf"][1])
    assert kept["large.pdf"][2] is None
    assert runtime.blobs.read(kept["large.pdf"][1]) == large
    for name, data in (("small.pdf", small), ("large.pdf", large)):
        download = api.get(f"/api/v1/attachments/{kept[name][0]}/download")
        assert download.status_code == 200
        assert download.content == data
    with runtime.db.transaction() as session:
        row = session.get(Attachment, kept["small.pdf"][0])
        assert row is not None
        row.data_inline = b"%PDF-1.4 other"
    with runtime.db.transaction(write=False) as session:
        row = session.get(Attachment, kept["small.pdf"][0])
        assert row is not None
        with pytest.raises(StorageError, match="does not match its sha256"):
            attachments.stored_bytes(runtime.blobs, row)
