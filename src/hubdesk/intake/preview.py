"""`hubdesk plan`: what the pipeline would do with a message, in a transaction that only
reads and is rolled back, so nothing is written anywhere."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

from hubdesk.classifier import service as classifier
from hubdesk.inbound.models import DedupeKey
from hubdesk.intake import dedupe
from hubdesk.intake.extract import extract
from hubdesk.intake.limits import mail_limits
from hubdesk.intake.plan import disposition
from hubdesk.intake.signals import thread_signals
from hubdesk.intake.threading import resolve
from hubdesk.intake.trust import sender_trust
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParseRejection
from hubdesk.priority import service as priority_keywords
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.workflows import engine


def preview(runtime: Runtime, raw: bytes) -> dict[str, Any]:
    settings = runtime.settings
    parsed = parse_email(
        raw, mail_limits(settings), trusted_authserv_id=settings.trusted_authserv_id
    )
    if isinstance(parsed, ParseRejection):
        return {"would": "quarantine", "reason": f"{parsed.reason}: {parsed.detail}"}
    base: dict[str, Any] = {"message_id": parsed.message_id, "subject": parsed.subject}
    with runtime.db.transaction(write=False) as session:
        raw_key = dedupe.raw_key(hashlib.sha256(raw).hexdigest())
        for key in (raw_key, dedupe.content_key(parsed)):
            owner = session.scalar(select(DedupeKey.inbound_id).where(DedupeKey.key == key))
            if owner is not None:
                return {**base, "would": "duplicate", "duplicate_of_inbound_id": owner}
        thread = resolve(
            session,
            parsed,
            thread_signals(parsed),
            policy=settings.ticket_threading_policy,
            secret_key=runtime.secret_key,
            trust=sender_trust(parsed, None),
        )
        verdict = classifier.decide(session, runtime, parsed, threads_to_ticket=thread.links)
        base["classification"] = {
            "class": verdict.label,
            "confidence": verdict.confidence,
            "model": verdict.model,
            "reasons": list(verdict.reasons),
        }
        ignored = disposition(parsed, verdict, ignore_bulk=settings.ticket_ignore_bulk)
        if ignored is not None:
            return {**base, "would": "ignore", "reason": ignored.reason}
        workflows = (
            [
                w.name
                for w in engine.matching(
                    engine.enabled_workflows(session), verdict.label, verdict.confidence
                )
            ]
            if settings.email_workflows_enabled
            else []
        )
        if thread.ticket_id is not None:
            ticket = session.get(Ticket, thread.ticket_id)
            return {
                **base,
                "would": "link",
                "ticket_number": ticket.ticket_number if ticket else None,
                "reason": thread.reason,
                "workflows": workflows,
            }
        found = extract(
            parsed.subject,
            parsed.body_visible,
            settings.ticket_default_priority,
            priority_keywords.keywords(session),
        )
        return {
            **base,
            "would": "create",
            "reason": thread.reason,
            "priority": found.priority,
            "priority_reason": found.priority_reason,
            "tags": list(found.tags),
            "workflows": workflows,
        }
