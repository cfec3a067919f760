"""Deciding which ticket an email belongs to (the spec's Option B, made safe).

One of our signed Message-IDs in In-Reply-To or References links the mail whoever sends it:
only someone who received our mail can know it. A Message-ID of a customer's mail stored on a
ticket is no secret (it travels in every quote and forward), so under
TICKET_THREADING_POLICY=participants it links only a sender who takes part in that ticket or
received that message; anyone else gets a new ticket that records which ticket they named
(`reference_refused`). A ticket number inside an id we did not store, or in the subject, is
only a hint: it links only a sender who already takes part in the ticket (its contact, an
earlier sender, an agent whose address is authentic, or someone of the ticket customer's
domain). A sender whom our receiving server failed (DMARC, or SPF without DKIM) never links
by a stored id or a hint; an agent's address is a credential only when it is authentic
(`SenderTrust`). TICKET_THREADING_POLICY=any links every match, as the spec's literal text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hubdesk.customers.models import Contact, CustomerDomain
from hubdesk.db import deferred, reads
from hubdesk.db import ids as ids_
from hubdesk.db.memo import memo
from hubdesk.db.reads import touching
from hubdesk.intake.signals import ThreadSignals
from hubdesk.intake.types import UNVERIFIED, Decision, SenderTrust, ThreadDecision
from hubdesk.mail.types import ParsedEmail
from hubdesk.tickets.message_ids import verified_ticket_number
from hubdesk.tickets.models import EmailLog, Ticket, TicketParticipant
from hubdesk.users.models import User

MAX_MERGE_HOPS: Final = 20


@dataclass(frozen=True, slots=True)
class _IdMatch:
    decision: ThreadDecision
    message_id: str
    signed: bool


def resolve(
    session: Session,
    parsed: ParsedEmail,
    signals: ThreadSignals,
    *,
    policy: str,
    secret_key: str,
    trust: SenderTrust = UNVERIFIED,
) -> ThreadDecision:
    sender = parsed.from_.email if parsed.from_ else None
    match = _by_message_id(session, signals, secret_key)
    if match is not None:
        return _judge_id_match(session, match, sender, policy, trust)
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
                specific=True,
            )
        why = None if trust.failed else participant_reason(session, ticket, sender, trust)
        if why is not None:
            return ThreadDecision(
                decision,
                f"{where} names {number} and the sender {why}",
                ticket_id=ticket.id,
                sender_trusted=True,
                specific=True,
            )
        return ThreadDecision(
            "hint_refused",
            f"{where} names {number}, but {_outsider(sender, trust)}; a new ticket was opened "
            "instead",
            hinted_ticket_number=number,
        )
    if missing:
        return ThreadDecision("new", f"it names {', '.join(missing)}, which does not exist")
    return ThreadDecision("new", "no In-Reply-To, References or subject token matched a ticket")


def _judge_id_match(
    session: Session, match: _IdMatch, sender: str | None, policy: str, trust: SenderTrust
) -> ThreadDecision:
    linked = match.decision
    ticket = reads.get(session, Ticket, linked.ticket_id)
    assert ticket is not None
    why = None if trust.failed else participant_reason(session, ticket, sender, trust)
    if match.signed or policy == "any":
        return replace(linked, sender_trusted=why is not None)
    if why is None and not trust.failed and not is_agent(session, sender):
        why = _recipient_reason(session, ticket, sender, match.message_id)
    if why is not None:
        return replace(linked, reason=f"{linked.reason}, and the sender {why}", sender_trusted=True)
    return ThreadDecision(
        "reference_refused",
        f"{linked.reason}, but {_outsider(sender, trust)} (a customer's Message-ID is no "
        "secret); a new ticket was opened instead",
        hinted_ticket_number=ticket.ticket_number,
    )


def _outsider(sender: str | None, trust: SenderTrust) -> str:
    if trust.failed:
        return f"the sender {sender or '(unknown)'} is not verified ({trust.auth.reason})"
    return f"the sender {sender or '(unknown)'} takes no part in that ticket"


STORED_IDS: Final = (
    select(EmailLog.email_message_id, EmailLog.ticket_id)
    .where(EmailLog.email_message_id.in_(bindparam("ids", expanding=True)))
    .order_by(EmailLog.id.desc())
)
"""Built once: each mail only binds its ids (a bulk chunk binds all of its mails', to lock
their tickets first: `intake.ticket_locks`)."""


@dataclass
class StoredIds:
    """What a bulk chunk read of `STORED_IDS` for all of its mails' ids at once
    (`hubdesk.intake.lookahead`), kept in the session for the chunk: a mail's look-up is
    answered from it unless it asks for an id the read did not, or for one of the chunk's own
    Message-IDs (an earlier mail of the chunk may have been logged since: asked again on
    PostgreSQL; on SQLite answered with the rows the batch made since, `answer`)."""

    own: frozenset[str] = frozenset()
    covered: frozenset[str] = frozenset()
    rows: Sequence[tuple[str, int]] = ()
    """(Message-ID, ticket id), newest row first, as `STORED_IDS` orders them."""
    numbers: dict[str, int] = field(default_factory=dict)
    """Ticket number -> id of the tickets the chunk's mail names by number (a ticket's
    number never changes, so a number found stays found; one not found may have been
    made by the chunk since: see `absent`)."""
    absent: frozenset[str] = frozenset()
    """The numbers the read asked for and did not find. In a batch that is the database's
    only writer (SQLite, `db.ids.sole_writer`) such a ticket can since have been made by the
    batch alone, which holds it (`db.reads.made_of`): not asked again."""

    made_before: frozenset[int] | None = None
    """The ids of the email-log rows the session had made when it read `rows` (SQLite
    only, see `answer`; None: not known)."""

    def read(self, session: Session, ids: Iterable[str], rows: Sequence[tuple[str, int]]) -> None:
        self.covered, self.rows = frozenset(ids), rows
        if ids_.sole_writer(session):
            self.made_before = reads.made_mark(session, EmailLog)

    def answer(self, session: Session, wanted: set[str]) -> Sequence[tuple[str, int]] | None:
        """The rows for `wanted` as `STORED_IDS` would read them now, newest first; None
        when they must be read. One of the chunk's own Message-IDs may have been logged
        since the read, by the batch alone where it is the database's only writer (SQLite,
        `db.ids.sole_writer`): those rows are the email-log rows it made since."""
        if not wanted <= self.covered:
            return None
        since: list[tuple[str, int]] = []
        if not wanted.isdisjoint(self.own):
            made = reads.made_since(session, EmailLog, self.made_before)
            if made is None:
                return None
            since = [
                (log.email_message_id, log.ticket_id)
                for log in reversed(made)
                if log.email_message_id in wanted
            ]
        return since + [row for row in self.rows if row[0] in wanted]


STORED_READ: Final = "hubdesk_stored_ids"
"""The session's `StoredIds` (a bulk chunk's)."""


def _by_message_id(session: Session, signals: ThreadSignals, secret_key: str) -> _IdMatch | None:
    ids = signals.ids
    if not ids:
        return None
    wanted = set(ids)
    chunk: StoredIds | None = session.info.get(STORED_READ)
    answered = chunk.answer(session, wanted) if chunk is not None else None
    if answered is not None:
        rows = answered
    else:
        # rows the batch has not written yet come first (newest first, as the statement
        # orders the written ones), answered from memory instead of flushing the batch
        pending = [
            (log.email_message_id, log.ticket_id)
            for log in reads.pending_of(session, EmailLog)
            if log.email_message_id in wanted
        ]
        with touching(
            session,
            EmailLog,
            where=lambda log: log.email_message_id in wanted,
            new_in_memory=True,
        ):
            rows = pending[::-1] + [
                (row[0], row[1]) for row in session.execute(STORED_IDS, {"ids": list(ids)})
            ]
    stored = dict(rows)
    tickets_of: dict[str, set[int]] = {}
    for stored_id, ticket_id in rows:
        tickets_of.setdefault(stored_id, set()).add(ticket_id)
    for position, message_id in enumerate(ids):
        header = "In-Reply-To" if position < signals.from_in_reply_to else "References"
        ticket: Ticket | None = None
        signed = False
        if (number := verified_ticket_number(message_id, secret_key)) is not None:
            ticket, signed = find_ticket(session, number), True
            reason = f"{header} {message_id} is one of our signed Message-IDs for {number}"
        elif message_id in stored:
            found = reads.get(session, Ticket, stored[message_id])
            ticket = follow_merges(session, found)
            reason = f"{header} {message_id} is a message stored on the ticket"
        if ticket is not None:
            # stored on one ticket only? (one email to several teams' mailboxes is stored
            # on each of their tickets)
            specific = signed or len(tickets_of.get(message_id, ())) < 2
            decision = ThreadDecision("message_id", reason, ticket_id=ticket.id, specific=specific)
            return _IdMatch(decision, message_id, signed)
    return None


def _recipient_reason(
    session: Session, ticket: Ticket, sender: str | None, message_id: str
) -> str | None:
    """Whether `sender` was copied on the ticket or received the message it answers."""
    if sender is None:
        return None
    copied = session.scalar(
        select(TicketParticipant.role).where(
            TicketParticipant.ticket_id == ticket.id, TicketParticipant.email == sender
        )
    )
    if copied is not None:
        return "takes part in the ticket"
    rows = session.execute(
        select(EmailLog.email_to, EmailLog.email_cc).where(EmailLog.email_message_id == message_id)
    ).all()
    for to, cc in rows:
        if sender in (to or []) or sender in (cc or []):
            return f"received {message_id}"
    return None


def find_ticket(session: Session, number: str) -> Ticket | None:
    """The live ticket for `number`, following merges; None when unknown or deleted."""
    number = number.upper()
    chunk: StoredIds | None = session.info.get(STORED_READ)
    if chunk is not None and number in chunk.numbers:
        return follow_merges(session, reads.get(session, Ticket, chunk.numbers[number]))
    if chunk is not None and number in chunk.absent and ids_.sole_writer(session):
        made = reads.made_of(session, Ticket)
        if made is not None:  # 19 % of generated mail asked for a number nobody has
            found = next((t for t in made if t.ticket_number == number), None)
            return follow_merges(session, found)
    for pending in reads.pending_of(session, Ticket):  # opened by the batch, not written yet
        if pending.ticket_number == number:
            return follow_merges(session, pending)
    with touching(
        session, Ticket, where=lambda ticket: ticket.ticket_number == number, new_in_memory=True
    ):
        ticket = session.scalars(select(Ticket).where(Ticket.ticket_number == number)).first()
    return follow_merges(session, ticket)


def follow_merges(session: Session, ticket: Ticket | None) -> Ticket | None:
    for _ in range(MAX_MERGE_HOPS):
        if ticket is None or ticket.deleted_at is not None:
            return None
        if ticket.merged_into_id is None:
            return ticket
        ticket = reads.get(session, Ticket, ticket.merged_into_id)
    return ticket


def is_agent(session: Session, address: str | None) -> bool:
    """Whether `address` is an active user's (whatever it proves about who wrote)."""
    if not address:
        return False
    if deferred.active(session):  # a bulk batch: the active users' addresses, read once
        agents = memo(
            session,
            "active_user_emails",
            lambda: frozenset(session.scalars(select(User.email).where(User.active.is_(True)))),
            depends_on=(User,),
        )
        return address in agents
    found = session.scalar(select(User.id).where(User.email == address, User.active.is_(True)))
    return found is not None


def participant_reason(
    session: Session, ticket: Ticket, sender: str | None, trust: SenderTrust = UNVERIFIED
) -> str | None:
    """Why `sender` may add to `ticket` under the participants policy, or None. An agent's
    address counts only when `trust` says it is authentic."""
    if sender is None:
        return None
    if is_agent(session, sender):
        # An agent's address is a credential only when it is authentic; a forged one is
        # nobody, even on a ticket that address wrote to before.
        authentic = trust.authentic_reason
        return f"is an agent ({authentic})" if authentic is not None else None
    if ticket.contact_id is not None:
        contact = reads.get(session, Contact, ticket.contact_id)  # maybe the batch's, pending
        if contact is not None and contact.email == sender:
            return "is the ticket's contact"
    # flushes only a pending participant of this ticket and address, not the batch's rows
    with touching(
        session,
        TicketParticipant,
        where=lambda row: row.ticket_id == ticket.id and row.email == sender,
    ):
        role = session.scalar(
            select(TicketParticipant.role).where(
                TicketParticipant.ticket_id == ticket.id,
                TicketParticipant.email == sender,
                TicketParticipant.role.in_(("contact", "sender")),
            )
        )
    if role is not None:
        return "wrote to the ticket before"
    if ticket.customer_id is not None:
        domain = sender.rpartition("@")[2]
        owner = session.get(CustomerDomain, domain)
        if owner is not None and owner.customer_id == ticket.customer_id:
            return f"is of the ticket customer's domain {domain}"
    return None
