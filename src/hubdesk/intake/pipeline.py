"""The orchestrator: one email, one transaction, a straight line of steps.

    receive -> parse -> dedupe -> thread -> classify -> plan -> execute -> follow up -> settle

The prologue (parse, trust, thread, the planner's inputs) is `hubdesk.intake.prologue`, shared
with `hubdesk plan`, triage decisions and workflow retries; the route is a `RoutePlan` from the
pure planner (`hubdesk.intake.planner`), run by the one executor (`hubdesk.intake.executor`).

Each step's output is the next one's input. Dispositions (duplicate, ignored, quarantined,
triage) are values; an unexpected exception rolls the transaction back and the message is
marked failed in a transaction of its own, with its raw bytes kept for a re-run. A database
outage propagates as `DatabaseUnavailable` and leaves the message `received` for a retry.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from hubdesk.classifier import service as classifier
from hubdesk.config import Settings
from hubdesk.db.uow import is_transient
from hubdesk.errors import DatabaseUnavailable, StorageUnavailable, ValidationFailed
from hubdesk.inbound import group_commit
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import dedupe, dispositions, executor, lookahead, prologue, redelivery
from hubdesk.intake.trust import SUBMITTED_BY
from hubdesk.intake.types import Mail, MailFlags, Outcome, SenderTrust
from hubdesk.mail.types import ParsedEmail, ParseRejection
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
    """Keep `raw` in the ledger (its commit shared with concurrent deliveries, see
    `hubdesk.inbound.group_commit`), then process it."""
    check_enabled(runtime.settings)
    if submitted_by is not None and submitted_by.user_id is not None:
        envelope = {**(envelope or {}), SUBMITTED_BY: submitted_by.email}
    # Concurrent deliveries of this process share the ledger commit (HTTP, LMTP, SMTP).
    inbound_id = group_commit.for_runtime(runtime).receive(
        raw,
        source=source,
        envelope=envelope,
        received_at=received_at,
        submitted_by=submitted_by,
        mailbox_id=mailbox_id,
        claimed=True,
    )
    return process(runtime, inbound_id)


def process(runtime: Runtime, inbound_id: int, *, reprocess: bool = False) -> Outcome:
    """Run one ledger row through the pipeline; `reprocess` also takes quarantined rows."""
    check_enabled(runtime.settings)
    try:
        with runtime.db.transaction() as session:
            return _process(session, runtime, inbound_id, reprocess)
    except (DatabaseUnavailable, StorageUnavailable, ValidationFailed):
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
    held: list[str] = []
    outcome = _steps(session, runtime, row, reprocess, held)
    for name in held:  # written with the row's fate, in its one UPDATE
        flag_modified(row, name)
    return outcome


def _hold(row: InboundMessage, names: tuple[str, ...], held: list[str]) -> None:
    """Keep what was just set on the row out of the flushes in between (each would be an
    UPDATE of its own): the values stay readable on the row, and `_run` marks them changed
    again at its end, so they are written with the row's fate. A run that fails is rolled
    back, and its row read again."""
    for name in names:
        set_committed_value(row, name, getattr(row, name))
    held.extend(names)


def _steps(
    session: Session, runtime: Runtime, row: InboundMessage, reprocess: bool, held: list[str]
) -> Outcome:
    if row.status not in (inbound.REPROCESSABLE if reprocess else {"received", "failed"}):
        return dispositions.outcome_of(session, row)
    raw_key = dedupe.raw_key(row.raw_sha256)

    def parse() -> ParsedEmail | ParseRejection:
        return prologue.parse(runtime, inbound.raw_bytes(runtime.blobs, row))

    # bytes a bulk chunk found we have: a duplicate, told without parsing
    if (
        lookahead.known_bytes(session, row)
        and (first := dedupe.claim(session, row.id, raw_key)) is not None
    ):
        return _duplicate(session, runtime, row, first, "raw", parse)
    parsed = lookahead.parsed(session, row)  # a bulk chunk's, parsed ahead
    if parsed is None:
        parsed = parse()
    if isinstance(parsed, ParseRejection):  # its bytes alone say whether we have it
        if (first := dedupe.claim(session, row.id, raw_key)) is not None:
            return _duplicate(session, runtime, row, first, "raw", lambda: parsed)
        return dispositions.quarantine(session, row, parsed)
    # both keys with one statement; the content key is never taken by a raw duplicate
    found = dedupe.claim_both(session, row.id, raw_key, dedupe.content_key(parsed))
    if found is not None and found[0] == "raw":
        return _duplicate(session, runtime, row, found[1], "raw", lambda: parsed)
    _describe(row, parsed)
    _hold(row, ("message_id", "subject", "from_address"), held)
    if found is not None:
        return _duplicate(session, runtime, row, found[1], "content", lambda: parsed)
    trust, thread = prologue.thread_of(session, runtime, parsed, row.envelope)
    flags = _flags(session, row, parsed, trust)
    verdict = classifier.decide(session, runtime, parsed, threads_to_ticket=thread.links)
    classifier.record(session, row, verdict, source=verdict.source)
    _hold(row, ("classification", "classification_confidence"), held)
    plan = prologue.plan_for(
        session,
        runtime,
        parsed,
        thread,
        verdict,
        row.received_at,
        envelope=row.envelope,
        mailbox_id=row.mailbox_id,
    )
    mail = Mail(parsed, row.id, row.received_at, thread, flags, trust)
    return executor.settle(session, runtime, row, mail, plan, verdict.confidence)


_WHY: Final = {
    "raw": "the same bytes were received before",
    "content": "the same message was received before",
}


def _duplicate(
    session: Session,
    runtime: Runtime,
    row: InboundMessage,
    first: int,
    key: str,
    parse: Callable[[], ParsedEmail | ParseRejection],
) -> Outcome:
    """A delivery of a message we have: the tickets it makes for teams only it reached
    (`hubdesk.intake.redelivery`, which parses it only if it must), else a plain
    duplicate of `first`."""
    why = _WHY[key]
    teams = redelivery.for_teams(session, runtime, row, first, why, parse)
    return teams or dispositions.duplicate(session, row, first, why)


def _describe(row: InboundMessage, parsed: ParsedEmail) -> None:
    row.message_id = parsed.message_id
    row.subject = parsed.subject[:2000]
    row.from_address = parsed.from_.email if parsed.from_ else None


def _flags(
    session: Session, row: InboundMessage, parsed: ParsedEmail, trust: SenderTrust
) -> MailFlags:
    return MailFlags(
        from_problem=parsed.from_problem or None,
        message_id_synthetic=parsed.message_id_synthetic,
        bulk=parsed.facts.get("bulk", True) if parsed.bulk else None,
        message_id_collision=lookahead.same_message_id_exists(session, parsed, row.id),
        sender_not_verified=trust.auth.reason if trust.failed else None,
        sender_verified=trust.auth.reason if not trust.failed and trust.auth.verified else None,
    )
