"""Delivering queued mail over SMTP, after commit, with retries and every attempt recorded.

A row is claimed (`pending` -> `sending`) in a committed transaction before the SMTP
conversation and settled in another after it, so two workers never send one row. A process
that dies mid-send leaves the row `sending`; it is never retried blindly (that could send it
twice): after `STALE_AFTER` it is marked failed with the reason, and an agent may retry it.
TLS certificates are verified (SMTP_CA_FILE names a private CA); STARTTLS is required when
configured, and no login is ever sent in clear unless SMTP_SECURITY=none.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update

from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.errors import StorageError
from hubdesk.outbox import drafts
from hubdesk.outbox.models import OutboxAttempt, OutboxMessage
from hubdesk.runtime import Runtime

log = logging.getLogger(__name__)

BATCH: Final = 50
STALE_AFTER: Final = timedelta(minutes=15)
FIRST_RETRY: Final = timedelta(minutes=1)
MAX_RETRY_DELAY: Final = timedelta(hours=4)


@dataclass(frozen=True)
class Delivery:
    result: str
    """`sent`, `temporary` or `permanent`."""
    code: int | None
    detail: str


def send_due(runtime: Runtime, *, now: datetime | None = None) -> int:
    """Send every due message; returns how many were attempted. Without SMTP_HOST nothing is
    sent (rows wait, visible in the outbox and in health)."""
    settings = runtime.settings
    if not settings.smtp_host:
        return 0
    now = now or utcnow()
    _fail_stale(runtime, now)
    claimed = _claim(runtime, now)
    if not claimed:
        return 0
    try:
        connection = connect(settings)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        for row_id in claimed:
            _settle(runtime, row_id, Delivery("temporary", None, f"cannot connect: {exc}"), now)
        return len(claimed)
    try:
        for row_id in claimed:
            _settle(runtime, row_id, _send_one(runtime, connection, row_id, now), now)
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return len(claimed)


def connect(settings: Settings) -> smtplib.SMTP:
    """An authenticated SMTP connection following SMTP_SECURITY."""
    assert settings.smtp_host is not None
    context = ssl.create_default_context(
        cafile=str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    )
    if settings.smtp_security == "tls":
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout, context=context
        )
    else:
        connection = smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout
        )
        if settings.smtp_security == "starttls":
            connection.ehlo()
            if not connection.has_extn("starttls"):
                connection.close()
                raise smtplib.SMTPNotSupportedError(
                    "the SMTP server does not offer STARTTLS (SMTP_SECURITY=starttls)"
                )
            connection.starttls(context=context)
    connection.ehlo()
    if settings.smtp_user:
        connection.login(settings.smtp_user, settings.smtp_password or "")
    return connection


def _send_one(runtime: Runtime, connection: smtplib.SMTP, row_id: int, now: datetime) -> Delivery:
    try:
        envelope_from, recipients, raw = _build(runtime, row_id, now)
    except StorageError as exc:
        return Delivery("permanent", None, f"cannot build the message: {exc}")
    try:
        refused = connection.sendmail(envelope_from, recipients, raw)
    except smtplib.SMTPRecipientsRefused as exc:
        return _refusal(exc.recipients)
    except smtplib.SMTPResponseException as exc:
        kind = "permanent" if 500 <= exc.smtp_code < 600 else "temporary"
        return Delivery(kind, exc.smtp_code, _text(exc.smtp_error))
    except (OSError, smtplib.SMTPException) as exc:
        return Delivery("temporary", None, str(exc))
    if refused:
        return Delivery("sent", 250, f"accepted, but refused for: {', '.join(refused)}")
    return Delivery("sent", 250, "accepted")


def _build(runtime: Runtime, row_id: int, now: datetime) -> tuple[str, list[str], bytes]:
    """The message's envelope and bytes, built from its draft with the settings in force now
    (and kept on the row: what went out). A row queued without a draft goes as it was."""
    with runtime.db.transaction() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        parts = (row.meta or {}).get("draft")
        if parts:
            row.raw = drafts.build(runtime.settings, parts, now, runtime.blobs.read)
            row.envelope_from = drafts.envelope_sender(runtime.settings, parts)
        return row.envelope_from, list(row.recipients), row.raw


def _refusal(recipients: dict[str, tuple[int, bytes]]) -> Delivery:
    codes = [code for code, _ in recipients.values()]
    kind = "permanent" if all(500 <= c < 600 for c in codes) else "temporary"
    detail = "; ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in recipients.items())
    return Delivery(kind, codes[0] if codes else None, detail)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _claim(runtime: Runtime, now: datetime) -> list[int]:
    with runtime.db.transaction() as session:
        candidates = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(BATCH)
            )
        )
        claimed = []
        for row_id in candidates:
            done = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
                .values(status="sending", next_attempt_at=now)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(row_id)
        return claimed


def _settle(runtime: Runtime, row_id: int, delivery: Delivery, now: datetime) -> None:
    max_attempts = runtime.settings.outbox_max_attempts
    with runtime.db.transaction() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.attempts += 1
        session.add(
            OutboxAttempt(
                outbox_id=row.id,
                attempted_at=now,
                result=delivery.result,
                smtp_code=delivery.code,
                detail=delivery.detail[:4000],
            )
        )
        if delivery.result == "sent":
            row.status, row.sent_at, row.reason = "sent", now, delivery.detail
        elif delivery.result == "temporary" and row.attempts < max_attempts:
            row.status = "pending"
            row.next_attempt_at = now + backoff(row.attempts)
            row.last_error = delivery.detail
        else:
            row.status, row.last_error = "failed", delivery.detail
            row.reason = f"{delivery.result} failure after {row.attempts} attempt(s)"
            log.warning("outgoing message %s failed: %s", row.id, delivery.detail)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failed attempt, at most four hours."""
    delay: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, MAX_RETRY_DELAY)


def _fail_stale(runtime: Runtime, now: datetime) -> None:
    with runtime.db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "sending",
                OutboxMessage.next_attempt_at < now - STALE_AFTER,
            )
            .values(
                status="failed",
                reason="interrupted while sending; not retried automatically so that it is "
                "never sent twice (retry it if the recipient did not get it)",
            )
        )
