"""`GET /api/v1/health`: no authentication; 503 only when the database is down.

A problem elsewhere keeps the answer 200 with `status: "degraded"` and a list of `problems`:
a mailbox whose login failed or whose server is unreachable (its `state` is error, in the
server's words), an IMAP mailbox that no worker has polled for a while, a workflow failing
again and again, the auto-reply circuit breaker open, senders throttled in the last hour,
and outgoing mail that failed or cannot leave.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.errors import DatabaseUnavailable
from hubdesk.inbound.models import InboundMessage
from hubdesk.mailboxes.models import Mailbox
from hubdesk.outbox import autoreply
from hubdesk.outbox.models import OutboxMessage
from hubdesk.web.deps import RuntimeDep
from hubdesk.workflows import engine

router = APIRouter(tags=["health"])

_MIN_STALE = timedelta(minutes=5)


@router.get("/health")
def health(runtime: RuntimeDep) -> JSONResponse:
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    try:
        runtime.db.ping()
        with runtime.db.transaction(write=False) as session:
            rows = session.scalars(
                select(Mailbox).where(Mailbox.imap_url.is_not(None)).order_by(Mailbox.name)
            ).all()
            mailboxes = [_mailbox(row) for row in rows]
            now = utcnow()
            problems = [p for row in rows if (p := _problem(row, runtime.settings, now))]
            problems += _service_problems(session, runtime.settings, now)
    except DatabaseUnavailable as exc:
        body.update(status="error", database="unavailable", reason=str(exc))
        return JSONResponse(body, status_code=503)
    if mailboxes:
        body["mailboxes"] = mailboxes
    if problems:
        body.update(status="degraded", problems=problems)
    return JSONResponse(body)


def _mailbox(row: Mailbox) -> dict[str, Any]:
    return {
        "name": row.name,
        "enabled": row.enabled,
        "state": row.state,
        "last_error": row.last_error,
        "last_error_at": _iso(row.last_error_at),
        "last_success_at": _iso(row.last_success_at),
    }


def _problem(row: Mailbox, settings: Settings, now: datetime) -> str | None:
    if not row.enabled:
        return None
    if row.state == "error":
        return f"mailbox {row.name}: {row.last_error or 'error'}"
    stale_after = max(_MIN_STALE, timedelta(seconds=3 * settings.imap_poll_interval))
    leased = row.lease_expires_at is not None and row.lease_expires_at > now
    last = row.last_success_at or row.updated_at
    if not leased and now - last > stale_after:
        when = f"since {_iso(row.last_success_at)}" if row.last_success_at else "yet"
        return f"mailbox {row.name}: not polled {when}; is 'hubdesk worker' running?"
    return None


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
    failed = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status == "failed", OutboxMessage.created_at >= now - timedelta(days=1)
        )
    )
    if failed:
        problems.append(f"{failed} outgoing message(s) failed in the last day")
    waiting = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )
    if waiting and not settings.smtp_host:
        problems.append(f"{waiting} outgoing message(s) wait: SMTP_HOST is not set")
    return problems


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
