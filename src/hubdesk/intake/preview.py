"""`hubdesk plan`: what the pipeline would do with a message, in a transaction that only
reads and is rolled back, so nothing is written anywhere.

It takes the same prologue (`hubdesk.intake.prologue`) and the same planner as ingest, so
what it says is what `hubdesk ingest` then does (the corpus test holds the two together).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.classifier import service as classifier
from hubdesk.inbound.models import DedupeKey
from hubdesk.intake import dedupe, prologue
from hubdesk.intake.extract import extract
from hubdesk.mail.types import ParseRejection
from hubdesk.priority import service as priority_keywords
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket


def preview(runtime: Runtime, raw: bytes, *, received_at: datetime | None = None) -> dict[str, Any]:
    settings = runtime.settings
    with runtime.db.transaction(write=False) as session:
        # In ingest's order: the same bytes first, then parsing, then the same message.
        owner = _claimed(session, dedupe.raw_key(hashlib.sha256(raw).hexdigest()))
        if owner is not None:
            return {"would": "duplicate", "duplicate_of_inbound_id": owner}
        parsed = prologue.parse(runtime, raw)
        if isinstance(parsed, ParseRejection):
            return {"would": "quarantine", "reason": f"{parsed.reason}: {parsed.detail}"}
        base: dict[str, Any] = {"message_id": parsed.message_id, "subject": parsed.subject}
        owner = _claimed(session, dedupe.content_key(parsed))
        if owner is not None:
            return {**base, "would": "duplicate", "duplicate_of_inbound_id": owner}
        _trust, thread = prologue.thread_of(session, runtime, parsed, None)
        verdict = classifier.decide(session, runtime, parsed, threads_to_ticket=thread.links)
        base["classification"] = {
            "class": verdict.label,
            "confidence": verdict.confidence,
            "model": verdict.model,
            "reasons": list(verdict.reasons),
        }
        when = received_at or datetime.now(UTC)
        plan = prologue.plan_for(session, runtime, parsed, thread, verdict, when)
        document = {**base, **plan.as_json()}
        routed = plan.thread or thread
        if plan.disposition == "link" and routed.ticket_id is not None:
            ticket = session.get(Ticket, routed.ticket_id)
            document["ticket_number"] = ticket.ticket_number if ticket else None
        elif plan.disposition == "create":
            found = extract(
                parsed.subject,
                parsed.body_visible,
                settings.ticket_default_priority,
                priority_keywords.keywords(session),
            )
            document["priority"] = found.priority
            document["priority_reason"] = found.priority_reason
            document["tags"] = list(found.tags)
        return document


def _claimed(session: Session, key: str) -> int | None:
    return session.scalar(select(DedupeKey.inbound_id).where(DedupeKey.key == key))
