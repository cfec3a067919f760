"""A second delivery of a mail we have, to a team's mailbox that got no ticket from it.

One email reaches hubdesk through two deliveries when a team's mailbox got it only as a Bcc
(its address in no header): by IMAP from each team's mailbox, or by two LMTP/SMTP
transactions. The second delivery is a duplicate of the message (`hubdesk.intake.dedupe`),
but the channel says which mailbox it reached (`prologue.delivery_teams`: the mailbox it was
fetched from or delivered to, the envelope recipients, else the topmost `Delivered-To`). For
each team among those that has no ticket of the message yet:

- when the first delivery opened tickets (new mail), that team's ticket is opened now,
  linked (`same_email`) to the others, its email log row pointing at the first delivery's
  ledger row: one stored raw message for all of them, no copy of the bytes;
- when the first delivery was a reply to a set of linked tickets, the email is added to
  that team's ticket of the set, if it has one.

Each team's ticket is claimed by a dedupe key (`team:<first ledger row>:<team>`), so a
re-delivery, or two at once, make it exactly once. A first delivery that made no ticket
(spam, triage, ignored) leaves the duplicate a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.db import reads
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import dedupe, dispositions, executor, prologue
from hubdesk.intake.actions import team_copy
from hubdesk.intake.teams import TeamAddress, TeamCopy
from hubdesk.intake.trust import sender_trust
from hubdesk.intake.types import NO_FLAGS, Mail, Outcome, Progress, ThreadDecision
from hubdesk.mail.types import ParsedEmail, ParseRejection
from hubdesk.runtime import Runtime
from hubdesk.tickets import links
from hubdesk.tickets.models import EmailLog, Ticket, TicketLink


def team_key(original_id: int, team_id: int) -> str:
    return f"team:{original_id}:{team_id}"


def for_teams(
    session: Session,
    runtime: Runtime,
    row: InboundMessage,
    original_id: int,
    why: str,
    parse: Callable[[], ParsedEmail | ParseRejection],
) -> Outcome | None:
    """The tickets this duplicate delivery makes for the teams it alone reached, or None
    when it makes none (a plain duplicate)."""
    parsed_once: list[ParsedEmail | ParseRejection] = []

    def parsed() -> ParsedEmail | ParseRejection:
        if not parsed_once:
            parsed_once.append(parse())
        return parsed_once[0]

    reached = prologue.delivery_teams(session, row.envelope, row.mailbox_id)
    if (
        not reached
        and row.mailbox_id is None
        and not (row.envelope or {}).get("rcpt_to")
        and prologue.has_team_addresses(session)  # else the headers cannot name a team
    ):
        found = parsed()
        if isinstance(found, ParsedEmail):
            reached = prologue.delivery_teams(session, row.envelope, None, found)
    if not reached:
        return None
    first = _tickets_of(session, original_id)
    if not first:
        return None
    covered = {t.team_id for t in first}
    family = _family(session, first)
    missing = [t for t in reached if t.team_id not in covered]
    if not missing:
        return None
    mail = parsed()
    if not isinstance(mail, ParsedEmail):
        return None
    return _make(session, runtime, row, original_id, why, mail, first, family, missing)


def _make(
    session: Session,
    runtime: Runtime,
    row: InboundMessage,
    original_id: int,
    why: str,
    parsed: ParsedEmail,
    first: Sequence[Ticket],
    family: Sequence[Ticket],
    missing: Sequence[TeamAddress],
) -> Outcome | None:
    original = reads.get(session, InboundMessage, original_id)  # a batch's new row too
    opened_first = original is not None and (original.flags or {}).get("result") == "created"
    numbers = ", ".join(t.ticket_number for t in first)
    env = executor.environment(session, runtime)
    made: list[tuple[Progress, TeamAddress]] = []
    for team in missing:
        own = next((t for t in family if t.team_id == team.team_id), None)
        if own is None and not opened_first:
            continue  # a reply Bcc'd to a team without a ticket in the set: no new ticket
        if dedupe.claim(session, row.id, team_key(original_id, team.team_id)) is not None:
            continue  # made by an earlier (or concurrent) delivery
        choice = "to that team's ticket" if own else f"one ticket for {team.team}, linked to them"
        reason = (
            f"{why} (inbound {original_id}, on {numbers}); this delivery reached "
            f"{team.team}'s mailbox ({team.address}), which the first did not: "
            f"a Bcc copy, so {choice}"
        )
        mail = Mail(
            parsed,
            original_id,  # the first delivery's stored raw message, for every team's ticket
            row.received_at,
            ThreadDecision("new", reason),
            NO_FLAGS,
            sender_trust(parsed, row.envelope),
        )
        copy = TeamCopy(
            reason,
            team.team_id,
            team.team,
            ticket_id=own.id if own is not None else None,
            ticket_number=own.ticket_number if own is not None else None,
            address=team.address,
        )
        progress = Progress().after(team_copy(env, mail, copy))
        made.append((progress, team))
        executor.follow_up(session, runtime, env, mail, progress, from_address=team.address)
        if own is None and progress.ticket_id is not None:
            ticket = session.get(Ticket, progress.ticket_id)
            if ticket is not None:
                links.link_all(session, [*first, ticket], "same_email", inbound_id=original_id)
    if not made:
        return None
    main, *others = [p for p, _ in made]
    teams = ", ".join(t.team for _, t in made)
    numbers = ", ".join(str(p.ticket_number) for p, _ in made)
    reason = f"{why}, but a Bcc copy to {teams}: {numbers}"
    status = "created" if main.created else "linked"
    inbound.settle(
        row,
        "processed",
        f"{status}: duplicate of inbound {original_id}: {reason}",
        ticket_id=main.ticket_id,
        duplicate_of_id=original_id,
        flags={"result": status, "team_tickets": [str(p.ticket_number) for p in others]},
    )
    row.queue = None
    return dispositions.outcome_of(session, row)


def _tickets_of(session: Session, inbound_id: int) -> list[Ticket]:
    """The live tickets ledger row `inbound_id`'s email is on, in ticket order."""
    return list(
        session.scalars(
            select(Ticket)
            .join(EmailLog, EmailLog.ticket_id == Ticket.id)
            .where(
                EmailLog.inbound_id == inbound_id,
                EmailLog.direction == "inbound",
                Ticket.deleted_at.is_(None),
                Ticket.merged_into_id.is_(None),
            )
            .distinct()
            .order_by(Ticket.id)
        )
    )


def _family(session: Session, tickets: Sequence[Ticket]) -> list[Ticket]:
    """The tickets linked to `tickets` as opened by one email (`same_email`), live ones."""
    ids = [t.id for t in tickets]
    return list(
        session.scalars(
            select(Ticket)
            .join(TicketLink, TicketLink.linked_ticket_id == Ticket.id)
            .where(
                TicketLink.ticket_id.in_(ids),
                TicketLink.kind == "same_email",
                Ticket.deleted_at.is_(None),
                Ticket.merged_into_id.is_(None),
            )
            .distinct()
            .order_by(Ticket.id)
        )
    )
