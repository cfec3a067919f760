"""`hubdesk.db.quick`: a PostgreSQL batch's statements of their own run on a pool kept for
them, committed at once, with the settings that make them short; SQLite never opens it (a
second connection would be a second writer)."""

from __future__ import annotations

import sqlalchemy as sa

from hubdesk.db import quick
from hubdesk.db.engine import create_db_engine
from hubdesk.intake import bulk
from hubdesk.intake.sources import Source
from hubdesk.runtime import Runtime
from tests.support.mail import raw_mail

_SETTINGS = sa.text(
    "SELECT current_setting('synchronous_commit'), current_setting('lock_timeout'), "
    "current_setting('statement_timeout')"
)
_RESERVE = sa.text("INSERT INTO tticket_number_counters (day, last_value) VALUES ('20991231', 7)")
_RESERVED = sa.text("SELECT last_value FROM tticket_number_counters WHERE day = '20991231'")


def test_statements_of_their_own_keep_the_urls_options_and_are_committed_at_once(
    runtime: Runtime, db_kind: str
) -> None:
    """On PostgreSQL the URL's own `options` (here a statement timeout) still hold on the
    pool's connections, beside `synchronous_commit` off and the 2 s lock wait, and a
    statement is committed at once (the batch's own connections see its row). On SQLite a
    bulk batch opens no such pool."""
    if db_kind == "sqlite":
        sources = [Source("m0", lambda: raw_mail(sender="someone.new@example.org"))]
        assert [o.status for _s, o in bulk.ingest_bulk(runtime, sources)] == ["created"]
        assert runtime.db.engine.pool not in quick._ENGINES
        return
    url = runtime.db.engine.url.update_query_dict({"options": "-c statement_timeout=12345"})
    engine = create_db_engine(url.render_as_string(hide_password=False))
    try:
        assert [tuple(row) for row in quick.rows(engine, _SETTINGS, {})] == [
            ("off", "2s", "12345ms")
        ]
        assert quick.count(engine, _RESERVE, {}) == 1
        with runtime.db.engine.connect() as other:
            assert other.scalar(_RESERVED) == 7
    finally:
        quick.dispose(engine)
        engine.dispose()
