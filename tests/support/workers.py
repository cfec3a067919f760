"""Functions that run in spawned child processes (see `tests.support.processes`).

They live in an importable module so that a spawned interpreter can find them, take only
picklable arguments, and import hubdesk inside the function so that the test process's
state never leaks into them. Each returns plain data describing what happened. They import
`hubdesk.models` first, as every entry point does, so that the model registry is complete.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def create_tickets(database_url: str, timezone: str, count: int, now_iso: str) -> dict[str, Any]:
    """Create `count` tickets, one transaction each, through the real service."""
    from zoneinfo import ZoneInfo

    import hubdesk.models  # noqa: F401
    from hubdesk.db.uow import Database
    from hubdesk.tickets.service import NewTicket, create_ticket
    from hubdesk.users.permissions import SYSTEM

    db = Database.connect(database_url)
    now = datetime.fromisoformat(now_iso)
    numbers: list[str] = []
    errors: list[str] = []
    try:
        for i in range(count):
            try:
                with db.transaction() as session:
                    ticket = create_ticket(
                        session,
                        SYSTEM,
                        NewTicket(subject=f"concurrent {i}"),
                        tz=ZoneInfo(timezone),
                        now=now,
                    )
                    number = ticket.ticket_number
                numbers.append(number)
            except Exception as exc:  # reported to the test, which asserts there are none
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        db.dispose()
    return {"numbers": numbers, "errors": errors}


def draw_prepaid_minutes(
    database_url: str, ticket_id: int, card_id: int, attempts: int, minutes: int, today_iso: str
) -> dict[str, Any]:
    """Try `attempts` prepaid worklogs of `minutes` each; report drawn, refused and errors."""
    import hubdesk.models  # noqa: F401
    from hubdesk.db.uow import Database
    from hubdesk.errors import ValidationFailed
    from hubdesk.tickets.models import Ticket
    from hubdesk.users.permissions import SYSTEM
    from hubdesk.worklogs.service import NewWorklog, create_worklog

    db = Database.connect(database_url)
    today = date.fromisoformat(today_iso)
    drawn: list[int] = []
    refused: list[str] = []
    errors: list[str] = []
    try:
        for _ in range(attempts):
            try:
                with db.transaction() as session:
                    ticket = session.get(Ticket, ticket_id)
                    assert ticket is not None
                    new = NewWorklog(minutes=minutes, billing="prepaid", prepaid_card_id=card_id)
                    create_worklog(session, SYSTEM, ticket, new, today=today)
                drawn.append(minutes)
            except ValidationFailed as exc:
                refused.append(str(exc))
            except Exception as exc:  # reported to the test, which asserts there are none
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        db.dispose()
    return {"drawn": drawn, "refused": refused, "errors": errors}


def resolve_key(data_dir: str) -> str:
    """The secret key a freshly started process resolves for `data_dir`."""
    from pathlib import Path

    from hubdesk.config import Settings, resolve_secret_key

    settings = Settings(
        data_dir=Path(data_dir),
        secret_key=None,
        _env_file=None,  # type: ignore[call-arg]
    )
    return resolve_secret_key(settings)


def evaluate_sla(settings_json: str, now_iso: str) -> dict[str, Any]:
    """One worker's SLA job run at `now` (a second process is a second worker)."""
    import hubdesk.models  # noqa: F401
    from hubdesk.config import Settings
    from hubdesk.runtime import Runtime
    from hubdesk.sla.escalations import evaluate

    settings = Settings.model_validate_json(settings_json)
    runtime = Runtime.build(settings)
    try:
        return {"fired": evaluate(runtime, datetime.fromisoformat(now_iso))}
    finally:
        runtime.close()


def ingest_mails(settings_json: str, prefix: str, count: int) -> dict[str, Any]:
    """Ingest `count` new mails through the real pipeline, one transaction each (a second
    process is a second worker taking mail at the same time)."""
    import hubdesk.models  # noqa: F401
    from hubdesk.config import Settings
    from hubdesk.intake import pipeline
    from hubdesk.runtime import Runtime
    from tests.support.mail import raw_mail

    runtime = Runtime.build(Settings.model_validate_json(settings_json))
    outcomes: list[str] = []
    try:
        for i in range(count):
            raw = raw_mail(subject=f"{prefix} {i}", sender=f"{prefix}{i}@example.com")
            outcomes.append(pipeline.ingest(runtime, raw, source="test").status)
    finally:
        runtime.close()
    return {"outcomes": outcomes}


def run_automation(settings_json: str, now_iso: str) -> dict[str, Any]:
    """One worker's automation job run at `now` (a second process is a second worker)."""
    import hubdesk.models  # noqa: F401
    from hubdesk.automation.timers import run
    from hubdesk.config import Settings
    from hubdesk.runtime import Runtime

    runtime = Runtime.build(Settings.model_validate_json(settings_json))
    try:
        return {"fired": run(runtime, datetime.fromisoformat(now_iso))}
    finally:
        runtime.close()


def pick_agents(database_url: str, group: str, count: int, hold: float) -> dict[str, Any]:
    """Pick `count` agents of `group` round robin, one transaction each, holding each
    transaction open `hold` seconds after the pick (as an ingest does while it stores the
    mail), so that a second process picking at the same time meets it mid-transaction."""
    import time

    import hubdesk.models  # noqa: F401
    from hubdesk.automation.assignment import pick
    from hubdesk.db.uow import Database

    db = Database.connect(database_url)
    picked: list[int | None] = []
    try:
        for _ in range(count):
            with db.transaction() as session:
                picked.append(pick(session, group, "round_robin").user_id)
                time.sleep(hold)
    finally:
        db.dispose()
    return {"picked": picked}


def ingest_raw(settings_json: str, raw: bytes, source: str, mailbox_id: int | None) -> str:
    """Ingest one message's bytes through the real pipeline as delivered to `mailbox_id`
    (a second process is a second worker, or an IMAP poller of another mailbox)."""
    import hubdesk.models  # noqa: F401
    from hubdesk.config import Settings
    from hubdesk.intake import pipeline
    from hubdesk.runtime import Runtime

    runtime = Runtime.build(Settings.model_validate_json(settings_json))
    try:
        return pipeline.ingest(runtime, raw, source=source, mailbox_id=mailbox_id).status
    finally:
        runtime.close()
