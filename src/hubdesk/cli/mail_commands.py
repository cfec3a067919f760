"""`hubdesk parse | ingest | plan | reprocess | purge`: mail from files, stdin and the ledger.

`parse` touches no database, so the database layer is imported inside the commands that use
it: `hubdesk parse` starts without SQLAlchemy.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hubdesk.budgets import mail_limits
from hubdesk.cli import context
from hubdesk.config import load_settings
from hubdesk.errors import ConfigError, DatabaseUnavailable, StorageUnavailable, ValidationFailed
from hubdesk.mail.limits import DEFAULT_LIMITS
from hubdesk.mail.parse import parse_email
from hubdesk.mail.serialize import parsed_to_json_dict, rejection_to_json_dict
from hubdesk.mail.types import ParseRejection

if TYPE_CHECKING:
    from hubdesk.intake.types import Outcome

app = typer.Typer()


def _read_one(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    file = Path(path)
    if not file.is_file():
        context.fail(f"{path}: no such file", context.EXIT_USAGE)
    return file.read_bytes()


@app.command("parse")
def parse_command(
    path: Annotated[str, typer.Argument(help="A message file, or - for stdin")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Parse one message and print what hubdesk reads from it (touches no database, no file)."""
    limits = DEFAULT_LIMITS
    trusted = None
    try:
        settings = load_settings()
        limits = mail_limits(settings)
        trusted = settings.trusted_authserv_id
    except ConfigError as exc:
        context.fail(str(exc), context.EXIT_USAGE)
    parsed = parse_email(_read_one(path), limits, trusted_authserv_id=trusted)
    if isinstance(parsed, ParseRejection):
        document = rejection_to_json_dict(parsed)
    else:
        document = parsed_to_json_dict(parsed)
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False))
        return
    for key, value in document.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        typer.echo(f"{key}: {shown}")


_BATCH_MESSAGES = typer.Option(
    "--batch-messages", min=1, help="Messages per transaction (HUBDESK_INGEST_BATCH_MESSAGES)"
)
_BATCH_BYTES = typer.Option(
    "--batch-bytes", min=1024, help="Raw bytes per transaction (HUBDESK_INGEST_BATCH_BYTES)"
)
_BATCH_SECONDS = typer.Option(
    "--batch-seconds", min=0.001, help="Seconds per transaction (HUBDESK_INGEST_BATCH_SECONDS)"
)


@app.command("ingest")
def ingest_command(
    paths: Annotated[list[str], typer.Argument(help="Files, folders, Maildirs, mbox files or -")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per message on stdout")
    ] = False,
    mbox: Annotated[bool, typer.Option("--mbox", help="Read every file as an mbox")] = False,
    batch_messages: Annotated[int | None, _BATCH_MESSAGES] = None,
    batch_bytes: Annotated[int | None, _BATCH_BYTES] = None,
    batch_seconds: Annotated[float | None, _BATCH_SECONDS] = None,
) -> None:
    """Turn messages into tickets, in batches with group commit; a message's line is printed
    only after its batch is durable (exit 75 when the database is unavailable, so MTAs
    retry; messages already reported stay ingested, a re-run finds them as duplicates)."""
    from hubdesk.intake import bulk, pipeline
    from hubdesk.intake.sources import iter_sources

    with context.runtime() as runtime:
        try:
            pipeline.check_enabled(runtime.settings)
            sources = list(iter_sources(paths, force_mbox=mbox, stdin=sys.stdin.buffer))
        except ValidationFailed as exc:
            context.fail(str(exc), context.EXIT_USAGE)
        limits = bulk.BatchLimits.from_settings(
            runtime.settings, messages=batch_messages, size=batch_bytes, seconds=batch_seconds
        )
        progress = _Progress(len(sources)) if context.is_terminal() and not as_json else None
        counts: dict[str, int] = {}
        try:
            for source, outcome in bulk.ingest_bulk(runtime, sources, limits, ledger_source=_label):
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
                _report(source.label, outcome, as_json)
                if progress:
                    progress.step()
        except (DatabaseUnavailable, StorageUnavailable) as exc:
            context.fail(f"{_done(counts)} before: {exc}", context.EXIT_TEMPFAIL)
        except bulk.SourceUnreadable as exc:
            context.fail(f"{_done(counts)} before: {exc}", context.EXIT_TEMPFAIL)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        typer.echo(f"hubdesk: {len(sources)} message(s): {summary or 'none'}", err=True)


def _done(counts: dict[str, int]) -> str:
    return f"{sum(counts.values())} message(s) committed"


def _label(given: str) -> str:
    return "stdin" if given == "-" else f"file:{given}"


def _report(label: str, outcome: Outcome, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(outcome.as_json(label), ensure_ascii=False))
        return
    where = f" {outcome.ticket_number}" if outcome.ticket_number else ""
    typer.echo(f"{label}: {outcome.status}{where} ({outcome.reason})", err=True)


class _Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def step(self) -> None:
        self.done += 1
        end = "\n" if self.done == self.total else ""
        sys.stderr.write(f"\r{self.done}/{self.total} messages{end}")
        sys.stderr.flush()


@app.command("plan")
def plan_command(
    path: Annotated[str, typer.Argument(help="A message file, or - for stdin")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Show what ingesting this message would do, writing nothing."""
    from hubdesk.intake.preview import preview

    raw = _read_one(path)
    with context.runtime() as runtime:
        document = preview(runtime, raw)
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False))
        return
    for key, value in document.items():
        typer.echo(f"{key}: {value if isinstance(value, str) else json.dumps(value)}")


@app.command("reprocess")
def reprocess_command(
    inbound_id: Annotated[int | None, typer.Argument(help="A ledger row id")] = None,
    quarantined: Annotated[bool, typer.Option(help="Every quarantined message")] = False,
    failed: Annotated[bool, typer.Option(help="Every failed message")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per message")] = False,
    batch_messages: Annotated[int | None, _BATCH_MESSAGES] = None,
    batch_seconds: Annotated[float | None, _BATCH_SECONDS] = None,
) -> None:
    """Run quarantined or failed messages through the pipeline again (the list in batches
    with group commit, like `ingest`)."""
    from sqlalchemy import select

    from hubdesk.inbound.models import InboundMessage
    from hubdesk.intake import bulk, pipeline
    from hubdesk.users.permissions import SYSTEM

    wanted = {s for s, on in (("quarantined", quarantined), ("failed", failed)) if on}
    if (inbound_id is None) == (not wanted):
        context.fail("give one ledger id, or --quarantined and/or --failed", context.EXIT_USAGE)
    with context.runtime() as runtime:
        if inbound_id is not None:
            outcome = pipeline.reprocess(runtime, inbound_id, SYSTEM)
            _report(f"inbound:{inbound_id}", outcome, as_json)
            return
        with runtime.db.transaction(write=False) as session:
            query = select(InboundMessage.id).where(InboundMessage.status.in_(wanted))
            ids = sorted(session.scalars(query))
        limits = bulk.BatchLimits.from_settings(
            runtime.settings, messages=batch_messages, seconds=batch_seconds
        )
        try:
            for row_id, outcome in bulk.reprocess_bulk(runtime, ids, SYSTEM, limits):
                _report(f"inbound:{row_id}", outcome, as_json)
        except (DatabaseUnavailable, StorageUnavailable) as exc:
            context.fail(str(exc), context.EXIT_TEMPFAIL)


@app.command("purge")
def purge_command(
    days: Annotated[
        int | None, typer.Option(min=1, help="Override HUBDESK_RAW_RETENTION_DAYS")
    ] = None,
) -> None:
    """Forget raw bytes of mail processed over N days ago (quarantined mail is kept), and
    blobs a crash left without a row."""
    from hubdesk.inbound import service as inbound
    from hubdesk.users import service as users

    with context.runtime() as runtime, runtime.db.transaction() as session:
        retention = days or runtime.settings.raw_retention_days
        purged = inbound.purge_raw(session, runtime.blobs, older_than_days=retention)
        sessions = users.purge_sessions(session, older_than=timedelta(days=retention))
    with context.runtime() as runtime, runtime.db.transaction(write=False) as session:
        collected = inbound.collect_orphan_blobs(session, runtime.blobs)
    typer.echo(f"purged the raw bytes of {purged} message(s)", err=True)
    typer.echo(
        f"collected {len(collected)} blob(s) and leftover(s) no row needs (over an hour old)",
        err=True,
    )
    typer.echo(f"deleted {sessions} ended browser session(s) and old login attempt(s)", err=True)


def register(root: typer.Typer) -> None:
    for command in app.registered_commands:
        root.registered_commands.append(command)
