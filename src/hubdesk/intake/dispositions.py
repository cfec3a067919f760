"""Recording the fate of an email on its ledger row (in the pipeline's transaction).

Duplicates point at the delivery they repeat; quarantined and ignored mail keeps its reason;
triage is a processed email with no ticket, waiting in the `triage` queue for an agent.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db import reads
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake.types import Outcome, OutcomeStatus, TicketMade
from hubdesk.mail.types import ParseRejection
from hubdesk.tickets.models import EmailLog, Ticket
from hubdesk.users.permissions import SYSTEM

TRIAGE: Final = "triage"


def outcome_of(session: Session, row: InboundMessage) -> Outcome:
    """The outcome a ledger row records (for re-runs and duplicates)."""
    status: OutcomeStatus
    if row.status == "processed":
        result = row.flags.get("result")
        status = result if result in ("created", "linked") else "ignored"
    elif row.status == "duplicate":
        status = "duplicate"
    elif row.status == "ignored":
        status = "ignored"
    elif row.status == "quarantined":
        status = "quarantined"
    else:
        status = "failed"
    ticket = reads.get(session, Ticket, row.ticket_id) if row.ticket_id is not None else None
    return Outcome(
        status,
        row.id,
        message_id=row.message_id,
        ticket_id=row.ticket_id,
        ticket_number=ticket.ticket_number if ticket is not None else None,
        reason=row.reason,
        team_tickets=tuple((row.flags or {}).get("team_tickets") or ()),
    )


def duplicate(session: Session, row: InboundMessage, original: int, why: str) -> Outcome:
    first = reads.get(session, InboundMessage, original)  # a batch's new row too
    if first is not None and row.message_id is None:
        row.message_id, row.subject = first.message_id, first.subject
        row.from_address = first.from_address
    inbound.settle(
        row,
        "duplicate",
        f"duplicate of inbound {original}: {why}",
        ticket_id=first.ticket_id if first is not None else None,
        duplicate_of_id=original,
    )
    return outcome_of(session, row)


def quarantine(session: Session, row: InboundMessage, rejection: ParseRejection) -> Outcome:
    inbound.settle(row, "quarantined", f"{rejection.reason}: {rejection.detail}")
    audit.record(
        session,
        SYSTEM,
        entity_type="inbound_message",
        entity_id=row.id,
        action="quarantined",
        changes={"status": [None, "quarantined"], "reason": [None, rejection.reason]},
    )
    return outcome_of(session, row)


def ignore(
    session: Session,
    row: InboundMessage,
    reason: str,
    flags: dict[str, Any],
    ticket_id: int | None = None,
) -> Outcome:
    inbound.settle(row, "ignored", reason, ticket_id=ticket_id, flags=flags)
    return outcome_of(session, row)


def triage(session: Session, row: InboundMessage, reason: str, flags: dict[str, Any]) -> Outcome:
    inbound.settle(row, "processed", f"{TRIAGE}: {reason}", flags={**flags, "result": TRIAGE})
    row.queue = TRIAGE
    audit.record(
        session,
        SYSTEM,
        entity_type="inbound_message",
        entity_id=row.id,
        action="triaged",
        changes={"queue": [None, TRIAGE]},
    )
    return outcome_of(session, row)


def processed(
    session: Session,
    row: InboundMessage,
    result: TicketMade,
    reason: str,
    flags: dict[str, Any],
) -> Outcome:
    status: OutcomeStatus = "created" if result.created else "linked"
    inbound.settle(
        row,
        "processed",
        f"{status}: {reason}",
        ticket_id=result.ticket_id,
        flags={**flags, "result": status},
    )
    row.queue = None
    return Outcome(
        status,
        row.id,
        message_id=row.message_id,
        ticket_id=result.ticket_id,
        ticket_number=result.ticket_number,
        reason=reason,
        result=result,
        team_tickets=tuple(flags.get("team_tickets") or ()),
    )


def bounced_ticket(session: Session, original_message_id: str | None) -> int | None:
    if not original_message_id:
        return None
    return session.scalar(
        select(EmailLog.ticket_id).where(EmailLog.email_message_id == original_message_id).limit(1)
    )
