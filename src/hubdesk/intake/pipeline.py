"""The orchestrator: one email, one transaction, a straight line of steps.

    receive -> parse -> dedupe -> thread -> classify -> dispose -> route -> follow up -> settle

Each step's output is the next one's input. Dispositions (duplicate, ignored, quarantined,
triage) are values; an unexpected exception rolls the transaction back and the message is
marked failed in a transaction of its own, with its raw bytes kept for a re-run. A database
outage propagates as `DatabaseUnavailable` and leaves the message `received` for a retry.
"""

from __future__ import annotations

import traceback
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hubdesk.classifier import service as classifier
from hubdesk.config import Settings
from hubdesk.db.uow import is_transient
from hubdesk.errors import DatabaseUnavailable, ValidationFailed
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import dedupe, dispositions, routing
from hubdesk.intake.limits import mail_limits
from hubdesk.intake.plan import disposition
from hubdesk.intake.record import Mail
from hubdesk.intake.signals import thread_signals
from hubdesk.intake.threading import resolve
from hubdesk.intake.trust import SUBMITTED_BY, sender_trust, trust_flags
from hubdesk.intake.types import Outcome
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail, ParseRejection
from hubdesk.outbox.bounces import record_bounce
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import Principal


def check_enabled(settings: Settings) -> None:
    if not settings.ticket_enabled:
        raise ValidationFailed("the ticket system is disabled (TICKET_ENABLED=false)")
    if not settings.ticket_email_integration:
        raise ValidationFailed(
            "email-to-ticket is disabled (TICKET_EMAIL_INTEGRATION=false); no mail is accepted"
        )


def ingest(
    runtime: Runtime,
    raw: bytes,
    *,
    source: str,
    envelope: dict[str, Any] | None = None,
    received_at: datetime | None = None,
    submitted_by: Principal | None = None,
    mailbox_id: int | None = None,
) -> Outcome:
    """Keep `raw` in the ledger, then process it."""
    check_enabled(runtime.settings)
    if submitted_by is not None and submitted_by.user_id is not None:
        envelope = {**(envelope or {}), SUBMITTED_BY: submitted_by.email}
    inbound_id = inbound.receive(
        runtime.db,
        runtime.blobs,
        raw,
        source=source,
        envelope=envelope,
        received_at=received_at,
        submitted_by=submitted_by,
        mailbox_id=mailbox_id,
    )
    return process(runtime, inbound_id)


def process(runtime: Runtime, inbound_id: int, *, reprocess: bool = False) -> Outcome:
    """Run one ledger row through the pipeline; `reprocess` also takes quarantined rows."""
    check_enabled(runtime.settings)
    try:
        with runtime.db.transaction() as session:
            return _process(session, runtime, inbound_id, reprocess)
    except (DatabaseUnavailable, ValidationFailed):
        raise
    except Exception as exc:
        if is_transient(exc):
            raise DatabaseUnavailable(f"the database is unavailable: {exc}") from exc
        with runtime.db.transaction(write=False) as session:
            raw_sha256 = inbound.get(session, inbound_id).raw_sha256
        error = "".join(traceback.format_exception(exc)).strip()
        inbound.record_failure(runtime.db, inbound_id, error, dedupe.raw_key(raw_sha256))
        return Outcome("failed", inbound_id, reason=f"failed: {type(exc).__name__}: {exc}")


def reprocess(runtime: Runtime, inbound_id: int, actor: Principal) -> Outcome:
    """Run a quarantined, failed or stuck message again on a user's request (audited)."""
    with runtime.db.transaction() as session:
        inbound.request_reprocess(session, actor, inbound_id)
    return process(runtime, inbound_id, reprocess=True)


def run_in(session: Session, runtime: Runtime, row: InboundMessage, *, reprocess: bool) -> Outcome:
    """Process a ledger row the caller holds, inside the caller's transaction (the bulk
    path, `hubdesk.intake.bulk`, which wraps each message in a savepoint)."""
    return _run(session, runtime, row, reprocess)


def _process(session: Session, runtime: Runtime, inbound_id: int, reprocess: bool) -> Outcome:
    return _run(session, runtime, inbound.lock(session, inbound_id), reprocess)


def _run(session: Session, runtime: Runtime, row: InboundMessage, reprocess: bool) -> Outcome:
    if row.status not in (inbound.REPROCESSABLE if reprocess else {"received", "failed"}):
        return dispositions.outcome_of(session, row)
    raw = inbound.raw_bytes(runtime.blobs, row)
    if (first := dedupe.claim(session, row.id, dedupe.raw_key(row.raw_sha256))) is not None:
        return dispositions.duplicate(session, row, first, "the same bytes were received before")
    parsed = parse_email(
        raw, mail_limits(runtime.settings), trusted_authserv_id=runtime.settings.trusted_authserv_id
    )
    if isinstance(parsed, ParseRejection):
        return dispositions.quarantine(session, row, parsed)
    if not parsed.headers:
        return dispositions.quarantine(session, row, _not_an_email(parsed))
    _describe(row, parsed)
    if (first := dedupe.claim(session, row.id, dedupe.content_key(parsed))) is not None:
        return dispositions.duplicate(session, row, first, "the same message was received before")
    trust = sender_trust(parsed, row.envelope)
    flags = {**_flags(session, row, parsed), **trust_flags(trust)}
    thread = resolve(
        session,
        parsed,
        thread_signals(parsed),
        policy=runtime.settings.ticket_threading_policy,
        secret_key=runtime.secret_key,
        trust=trust,
    )
    verdict = classifier.decide(session, runtime, parsed, threads_to_ticket=thread.links)
    classifier.record(session, row, verdict, source=verdict.source)
    ignored = disposition(parsed, verdict, ignore_bulk=runtime.settings.ticket_ignore_bulk)
    if ignored is not None:
        ticket_id = record_bounce(session, parsed, row.received_at) if parsed.bounce else None
        ticket_id = ticket_id or dispositions.bounced_ticket(
            session, parsed.bounce_original_message_id if parsed.bounce else None
        )
        return dispositions.ignore(session, row, ignored.reason, flags, ticket_id)
    if parsed.from_ is None:
        return dispositions.triage(session, row, _no_sender(parsed), flags)
    mail = Mail(parsed, row.id, row.received_at, thread, flags, trust)
    return routing.route(session, runtime, row, mail, verdict)


def _not_an_email(parsed: ParsedEmail) -> ParseRejection:
    """Empty input or bytes without a single header field: kept, never a ticket."""
    what = "empty input" if parsed.size == 0 else f"{parsed.size} bytes without a header field"
    return ParseRejection("not_email", f"not an email ({what})", parsed.raw_sha256)


def _no_sender(parsed: ParsedEmail) -> str:
    """Mail with no readable sender waits for an agent: a ticket could not be answered."""
    return (
        f"no readable sender (From {parsed.from_problem or 'missing'}); nobody could be "
        "answered, so an agent decides"
    )


def _describe(row: InboundMessage, parsed: ParsedEmail) -> None:
    row.message_id = parsed.message_id
    row.subject = parsed.subject[:2000]
    row.from_address = parsed.from_.email if parsed.from_ else None


def _flags(session: Session, row: InboundMessage, parsed: ParsedEmail) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    if parsed.from_problem:
        flags["from_problem"] = parsed.from_problem
    if parsed.message_id_synthetic:
        flags["message_id_synthetic"] = True
    if parsed.bulk:
        flags["bulk"] = parsed.facts.get("bulk", True)
    if dedupe.same_message_id_exists(session, parsed, row.id):
        flags["message_id_collision"] = True
    return flags
