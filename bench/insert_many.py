"""The cost of writing a chunk's rows: SQLAlchemy's Core INSERT against `db.many`.

Writes 25 email-log rows (a chunk's worth) `--runs` times each way, alternately, into a
fresh SQLite database, each in a transaction rolled back after, and prints the medians in
ms. Both ways run in one process, one after the other, so a busy host slows both alike:

    PYTHONPATH=.:src .venv/bin/python -m bench.insert_many
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert

from bench.ingest import runtime_for
from hubdesk.db import many
from hubdesk.tickets.models import EmailLog


def _row(number: int, now: datetime) -> dict[str, Any]:
    return {
        "id": number,
        "ticket_id": 1,
        "inbound_id": None,
        "email_message_id": f"<{number}@example.com>",
        "email_subject": "The printer is on fire",
        "email_from": "alice@example.com",
        "email_received_at": now,
        "is_reply": False,
        "thread_data": {"message_id": f"<{number}@example.com>", "references": ["<a@b>"]},
        "created_at": now,
        "direction": "inbound",
        "decision": "new",
        "reason": "no thread found",
        "email_to": ["support@example.com"],
        "email_cc": [],
        "body_text": "It is on fire.",
        "body_visible": "It is on fire.",
        "body_html": "",
        "flags": {},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=400)
    args = parser.parse_args()
    table = cast(Table, EmailLog.__table__)
    keys = tuple(c.key for c in table.columns if c.computed is None)
    now = datetime.now(UTC)
    rows = [_row(n, now) for n in range(1, 26)]
    values = [tuple(row[k] for k in keys) for row in rows]
    with tempfile.TemporaryDirectory() as scratch:
        runtime = runtime_for(f"sqlite:///{scratch}/insert.db", Path(scratch) / "data")
        connection = runtime.db.engine.connect()
        # the rows name no ticket; the statement is what is timed
        driver: Any = connection.connection.driver_connection
        driver.execute("PRAGMA foreign_keys=OFF")
        statement = insert(table)
        core: list[float] = []
        ours: list[float] = []
        for _ in range(args.runs):
            for spent, write in (
                (core, lambda: connection.execute(statement, rows)),
                (ours, lambda: many.insert_many(connection, table, keys, values)),
            ):
                transaction = connection.begin()
                started = time.perf_counter()
                write()
                spent.append(time.perf_counter() - started)
                transaction.rollback()
        connection.close()
        runtime.close()
    print(
        f"25 email-log rows: Core INSERT {1000 * statistics.median(core):.3f} ms, "
        f"db.many {1000 * statistics.median(ours):.3f} ms"
    )


if __name__ == "__main__":
    main()
