"""Deciding which ticket an email belongs to (the spec's Option B, made safe).

A Message-ID we stored for a ticket (inbound or our own outbound), or one of our signed
Message-IDs, in In-Reply-To or References links the mail whoever sends it: the sender saw the
thread. A ticket number inside an id we did not store, or in the subject, is only a hint:
under TICKET_THREADING_POLICY=participants it links only a sender who already takes part in
the ticket (its contact, an earlier sender, an agent, or someone of the ticket customer's
domain); anyone else gets a new ticket that records which ticket they named.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.customers.models import Contact, CustomerDomain
from hubdesk.intake.signals import ThreadSignals
from hubdesk.intake.types import Decision, ThreadDecision
from hubdesk.mail.types import ParsedEmail
from hubdesk.tickets.message_ids import verified_ticket_number
from hubdesk.tickets.models import EmailLog, Ticket, TicketParticipant
from hubdesk.users.models import User

MAX_MERGE_HOPS: Final = 20


def resolve(
    session: Session,
    parsed: ParsedEmail,
    signals: ThreadSignals,
    *,
    policy: str,
    secret_key: str,
) -> ThreadDecision:
    sender = parsed.from_.email if parsed.from_ else None
    linked = _by_message_id(session, signals, secret_key)
    if linked is not None:
        ticket = session.get(Ticket, linked.ticket_id)
        trusted = ticket is not None and participant_reason(session, ticket, sender) is not None
        return replace(linked, sender_trusted=trusted)
    hints: list[tuple[str, Decision, str]] = [
        (n, "ticket_in_message_id", "a Message-ID it refers to") for n in signals.numbers_in_ids
    ]
    hints += [(n, "subject_token", "its subject") for n in signals.subject_numbers]
    missing: list[str] = []
    for number, decision, where in hints:
        ticket = find_ticket(session, number)
        if ticket is None:
            missing.append(number)
            continue
        if policy == "any":
            return ThreadDecision(
                decision,
                f"{where} names {number} (TICKET_THREADING_POLICY=any)",
                ticket_id=ticket.id,
            )
        why = participant_reason(session, ticket, sender)
        if why is not None:
            return ThreadDecision(
                decision,
                f"{where} names {number} and the sender {why}",
                ticket_id=ticket.id,
                sender_trusted=True,
            )
        return ThreadDecision(
            "hint_refused",
            f"{where} names {number}, but the sender {sender or '(unknown)'} takes no part in "
            "that ticket; a new ticket was opened instead",
            hinted_ticket_number=number,
        )
    if missing:
        return ThreadDecision("new", f"it names {', '.join(missing)}, which does not exist")
    return ThreadDecision("new", "no In-Reply-To, References or subject token matched a ticket")


def _by_message_id(
    session: Session, signals: ThreadSignals, secret_key: str
) -> ThreadDecision | None:
    ids = signals.ids
    if not ids:
        return None
    stored = dict(
        session.execute(
            select(EmailLog.email_message_id, EmailLog.ticket_id)
            .where(EmailLog.email_message_id.in_(ids))
            .order_by(EmailLog.id.desc())
        ).all()
    )
    for position, message_id in enumerate(ids):
        header = "In-Reply-To" if position < signals.from_in_reply_to else "References"
        ticket: Ticket | None = None
        if message_id in stored:
            ticket = follow_merges(session, session.get(Ticket, stored[message_id]))
            reason = f"{header} {message_id} is a message stored on the ticket"
        elif (number := verified_ticket_number(message_id, secret_key)) is not None:
            ticket = find_ticket(session, number)
            reason = f"{header} {message_id} is one of our signed Message-IDs for {number}"
        if ticket is not None:
            return ThreadDecision("message_id", reason, ticket_id=ticket.id)
    return None


def find_ticket(session: Session, number: str) -> Ticket | None:
    """The live ticket for `number`, following merges; None when unknown or deleted."""
    ticket = session.scalars(select(Ticket).where(Ticket.ticket_number == number.upper())).first()
    return follow_merges(session, ticket)


def follow_merges(session: Session, ticket: Ticket | None) -> Ticket | None:
    for _ in range(MAX_MERGE_HOPS):
        if ticket is None or ticket.deleted_at is not None:
            return None
        if ticket.merged_into_id is None:
            return ticket
        ticket = session.get(Ticket, ticket.merged_into_id)
    return ticket


def participant_reason(session: Session, ticket: Ticket, sender: str | None) -> str | None:
    """Why `sender` may add to `ticket` under the participants policy, or None."""
    if sender is None:
        return None
    if ticket.contact_id is not None:
        contact = session.get(Contact, ticket.contact_id)
        if contact is not None and contact.email == sender:
            return "is the ticket's contact"
    role = session.scalar(
        select(TicketParticipant.role).where(
            TicketParticipant.ticket_id == ticket.id,
            TicketParticipant.email == sender,
            TicketParticipant.role.in_(("contact", "sender")),
        )
    )
    if role is not None:
        return "wrote to the ticket before"
    if session.scalar(select(User.id).where(User.email == sender, User.active.is_(True))):
        return "is an agent"
    if ticket.customer_id is not None:
        domain = sender.rpartition("@")[2]
        owner = session.get(CustomerDomain, domain)
        if owner is not None and owner.customer_id == ticket.customer_id:
            return f"is of the ticket customer's domain {domain}"
    return None
