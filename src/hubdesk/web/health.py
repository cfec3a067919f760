"""`GET /api/v1/health`: liveness for anyone, the details for those who manage mailboxes.

Without a login (or without the `mailboxes.manage` permission) the answer is only
`{"status", "database"}`: `ok`, or `degraded` when something needs an admin, and 503 with
`"database": "unavailable"` when the database is down (the driver's words go to the log, not
to an anonymous caller). Holders of `mailboxes.manage` (admins) also get the details:
`mailboxes` (each IMAP mailbox's state and the server's last error), `stale_mailboxes` (not
polled successfully for HUBDESK_MAILBOX_STALE_MINUTES), `outbox` (mail failed or waiting)
and `problems`, one sentence each: a mailbox in error, a stale mailbox, a workflow failing
again and again, the auto-reply circuit breaker open, senders throttled in the last hour,
outgoing mail that failed or cannot leave.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.access.deps import RuntimeDep, optional_principal
from hubdesk.channels.imap import status as mailbox_status
from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.errors import DatabaseUnavailable
from hubdesk.inbound.models import InboundMessage
from hubdesk.mailboxes.models import Mailbox
from hubdesk.outbox import autoreply
from hubdesk.outbox.models import OutboxMessage
from hubdesk.users.permissions import MAILBOXES_MANAGE, Principal
from hubdesk.workflows import engine

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)

HEALTH_DETAILS: Final = MAILBOXES_MANAGE
"""The permission that shows health's details (mailbox errors, outbox, problems)."""
DATABASE_DOWN: Final = "the database is unavailable; the server log says why"

CallerDep = Annotated[Principal | None, Depends(optional_principal)]


@router.get("/health")
def health(runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    try:
        runtime.db.ping()
        with runtime.db.transaction(write=False) as session:
            details = _details(session, runtime.settings, utcnow())
    except DatabaseUnavailable as exc:
        logger.warning("health: %s", exc)
        body.update(status="error", database="unavailable", reason=DATABASE_DOWN)
        return JSONResponse(body, status_code=503)
    if details.get("problems"):
        body["status"] = "degraded"
    if caller is not None and caller.can(HEALTH_DETAILS):
        body.update(details)
    return JSONResponse(body)


def _details(session: Session, settings: Settings, now: datetime) -> dict[str, Any]:
    rows = session.scalars(
        select(Mailbox).where(Mailbox.imap_url.is_not(None)).order_by(Mailbox.name)
    ).all()
    threshold = mailbox_status.stale_threshold(settings)
    stale = [row for row in rows if mailbox_status.is_stale(row, threshold, now)]
    problems = [f"mailbox {row.name}: {row.last_error or 'error'}" for row in rows if _broken(row)]
    problems += [_stale_problem(row, threshold) for row in stale]
    problems += _service_problems(session, settings, now)
    details: dict[str, Any] = {}
    if rows:
        details["mailboxes"] = [_mailbox(row) for row in rows]
    if stale:
        details["stale_mailboxes"] = [row.name for row in stale]
    outbox = _outbox(session, now)
    if any(outbox.values()):
        details["outbox"] = outbox
    if problems:
        details["problems"] = problems
    return details


def _broken(row: Mailbox) -> bool:
    return row.enabled and row.state == "error"


def _stale_problem(row: Mailbox, threshold: timedelta) -> str:
    minutes = round(threshold.total_seconds() / 60)
    when = f"since {_iso(row.last_success_at)}" if row.last_success_at else "yet"
    return (
        f"mailbox {row.name}: not polled successfully {when} (over {minutes} min); "
        "is 'hubdesk worker' running?"
    )


def _mailbox(row: Mailbox) -> dict[str, Any]:
    return {
        "name": row.name,
        "enabled": row.enabled,
        "state": row.state,
        "last_error": row.last_error,
        "last_error_at": _iso(row.last_error_at),
        "last_success_at": _iso(row.last_success_at),
    }


def _outbox(session: Session, now: datetime) -> dict[str, int]:
    failed = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status == "failed", OutboxMessage.created_at >= now - timedelta(days=1)
        )
    )
    pending = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )
    return {"pending": pending or 0, "failed_last_day": failed or 0}


def _service_problems(session: Session, settings: Settings, now: datetime) -> list[str]:
    problems = [
        str(alert["message"])
        for alert in engine.alerts(session, settings.workflow_failure_alert_threshold)
    ]
    if autoreply.breaker_open(session, settings, now):
        problems.append(
            "auto-replies paused: the circuit breaker is open (more than "
            f"{settings.auto_reply_global_per_5_minutes} in 5 minutes)"
        )
    throttled = session.execute(
        select(InboundMessage.from_address, func.count())
        .where(
            InboundMessage.reason.startswith("triage: throttled"),
            InboundMessage.processed_at >= now - timedelta(hours=1),
        )
        .group_by(InboundMessage.from_address)
    ).all()
    problems += [
        f"sender {sender} throttled: {n} message(s) held in triage" for sender, n in throttled
    ]
    outbox = _outbox(session, now)
    if outbox["failed_last_day"]:
        problems.append(f"{outbox['failed_last_day']} outgoing message(s) failed in the last day")
    if outbox["pending"] and not settings.smtp_host:
        problems.append(f"{outbox['pending']} outgoing message(s) wait: SMTP_HOST is not set")
    return problems


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
