"""A mail with an enormous plain-text body: CPU and peak memory of the whole pipeline.

The probe of issue 13 measured 3.06 s of CPU and 519 MB for a 20 MB text body, mostly
full-text indexing and the text stored three times (description, email log, search index).
This script ingests one such mail (`--mb`, default 20) into a fresh SQLite database (and
PostgreSQL with `--postgres`) in a fresh process and prints the pipeline's CPU time, the
process's peak RSS before and after, and how much text was stored and indexed. Run it against
another checkout's code (say, before the cap) with `PYTHONPATH=/path/to/checkout/src`.

    .venv/bin/python -m bench.long_text --mb 20
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import sqlalchemy as sa

from hubdesk.config import Settings
from hubdesk.db.migrate import upgrade
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
LINE = "The printer on the third floor prints only blank pages again today.\n"


def long_mail(megabytes: float) -> bytes:
    message = EmailMessage()
    message["From"] = "alice@acme.example"
    message["To"] = "support@support.example.com"
    message["Subject"] = "A very long log file pasted into the mail"
    message["Message-ID"] = "<long-text@acme.example>"
    message.set_content(LINE * int(megabytes * 1024 * 1024 / len(LINE)))
    return message.as_bytes(policy=SMTP)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(url: str, work: Path, raw: bytes) -> dict[str, object]:
    settings = Settings(
        database_url=url,
        data_dir=work / "data",
        secret_key="bench-key-" + "x" * 40,
        mail_domain="support.example.com",
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = Runtime.build(settings)
    try:
        upgrade(runtime.db.engine)
        before = _peak_mb()
        start_cpu, start = time.process_time(), time.perf_counter()
        outcome = pipeline.ingest(runtime, raw, source="bench")
        cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
        with runtime.db.engine.connect() as connection:
            stored = connection.execute(
                sa.text(
                    "SELECT (SELECT sum(length(description)) FROM tticket_tickets) "
                    "+ (SELECT sum(length(body_text) + length(body_visible)) "
                    "FROM tticket_email_log)"
                )
            ).scalar_one()
            indexed = connection.execute(
                sa.text("SELECT sum(length(document)) FROM tticket_search")
            ).scalar_one()
    finally:
        runtime.close()
    return {
        "database": url.split(":", 1)[0],
        "status": outcome.status,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "peak_rss_before_mb": round(before),
        "peak_rss_after_mb": round(_peak_mb()),
        "text_stored_chars": int(stored or 0),
        "text_indexed_chars": int(indexed or 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of the text body in MB")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    raw = long_mail(args.mb)
    with tempfile.TemporaryDirectory(prefix="hubdesk-long-text-") as tmp:
        work = Path(tmp)
        if args.postgres:
            name = f"bench_long_{int(time.time())}"
            admin = sa.create_engine(PG_URL.format(name="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                result = run(PG_URL.format(name=name), work, raw)
            finally:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()
        else:
            result = run(f"sqlite:///{work}/bench.db", work, raw)
    print(json.dumps({"raw_mb": round(len(raw) / 1024 / 1024, 1), **result}))


if __name__ == "__main__":
    main()
