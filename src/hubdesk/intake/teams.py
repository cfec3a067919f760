"""One email and several teams (the spec's Multi-Ticket Threading), decided without I/O.

A mailbox (and its `+tag` addresses) belongs to a team, a user group. The teams an email is
addressed to are those of the mailbox it was delivered to and of every mailbox address among
its envelope recipients, To and Cc (`hubdesk.intake.prologue.addressed_teams` reads them):

- New mail to the mailboxes of several teams opens one ticket per team, linked to each other
  (`same_email`); each ticket's email log row points at the same ledger row, so the raw
  message is stored once. The first team is the delivering mailbox's, else the first
  addressed; the others are `copies`.
- A reply that threads to one of such linked tickets goes to the ticket of the team whose
  mailbox it was sent to (to each such team's when sent to several). Sent to none of their
  mailboxes, it goes to the ticket it threads to when its signal names that ticket alone
  (one of our signed Message-IDs: an answer to an agent's reply; a ticket number; a
  Message-ID stored on that ticket only), else (it answers the email all of them share) it
  is ambiguous and goes to all of them.

The reason each ticket's email log row records says which and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hubdesk.intake.types import ThreadDecision


@dataclass(frozen=True, slots=True)
class TeamAddress:
    """An address of ours the email was sent to, and the team of its mailbox."""

    address: str
    team_id: int
    team: str


@dataclass(frozen=True, slots=True)
class FamilyTicket:
    """A ticket of the linked set a reply threads into (the thread's own ticket included)."""

    ticket_id: int
    ticket_number: str
    team_id: int | None
    team: str | None


@dataclass(frozen=True, slots=True)
class TeamCopy:
    """Another team's ticket for the same email: opened for `team_id` when `ticket_id` is
    None, else the email is added to that ticket as well."""

    reason: str
    team_id: int | None = None
    team: str | None = None
    ticket_id: int | None = None
    ticket_number: str | None = None
    address: str | None = None
    """The team's mailbox address the mail was sent to (its acknowledgement's From)."""

    def as_json(self) -> dict[str, object]:
        if self.ticket_id is None:
            return {"would": "create", "team": self.team, "reason": self.reason}
        return {"would": "link", "ticket_number": self.ticket_number, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class TeamRoute:
    """The thread decision the route uses (reason extended, for a reply perhaps another
    ticket of the set), the team of a ticket the route opens, and the other teams' tickets."""

    thread: ThreadDecision
    team: TeamAddress | None = None
    copies: tuple[TeamCopy, ...] = ()


def route_teams(
    thread: ThreadDecision,
    teams: Sequence[TeamAddress],
    family: Sequence[FamilyTicket],
    *,
    opens: bool,
    links: bool,
) -> TeamRoute:
    """The team part of a route (pure). `opens`: the route opens a ticket for new mail;
    `links`: it adds a reply to the ticket it threads to."""
    if opens and not thread.links:
        return _new_mail(thread, teams)
    if links and thread.ticket_id is not None and len(family) > 1:
        return _reply(thread, teams, family)
    return TeamRoute(thread, teams[0] if teams and opens else None)


def _named(teams: Sequence[TeamAddress]) -> str:
    return ", ".join(f"{t.team}: {t.address}" for t in teams)


def _new_mail(thread: ThreadDecision, teams: Sequence[TeamAddress]) -> TeamRoute:
    if len(teams) <= 1:
        return TeamRoute(thread, teams[0] if teams else None)
    why = f"sent to {len(teams)} teams' mailboxes ({_named(teams)}): one ticket per team"
    first, *others = teams
    main = replace(thread, reason=f"{thread.reason}; {why}, this one {first.team}'s")
    copies = tuple(
        TeamCopy(
            f"{thread.reason}; {why}, this one {t.team}'s", t.team_id, t.team, address=t.address
        )
        for t in others
    )
    return TeamRoute(main, first, copies)


def _reply(
    thread: ThreadDecision, teams: Sequence[TeamAddress], family: Sequence[FamilyTicket]
) -> TeamRoute:
    addressed = {t.team_id: t for t in teams}
    matched = [f for f in family if f.team_id is not None and f.team_id in addressed]
    numbers = ", ".join(f.ticket_number for f in family)
    if matched:
        sent = ", ".join(
            f"{addressed[f.team_id].address} ({f.team})" for f in matched if f.team_id is not None
        )
        why = f"one of the linked tickets {numbers}; sent to {sent}, so to that team's ticket"
        targets = matched
    elif thread.specific:
        why = (
            f"one of the linked tickets {numbers}; sent to none of their teams' mailboxes, "
            "and it answers that ticket alone"
        )
        targets = [f for f in family if f.ticket_id == thread.ticket_id] or list(family[:1])
    else:
        why = (
            f"one of the linked tickets {numbers}; sent to none of their teams' mailboxes, "
            "so it is ambiguous and goes to all of them"
        )
        targets = list(family)
    main = next((f for f in targets if f.ticket_id == thread.ticket_id), targets[0])
    routed = replace(
        thread,
        ticket_id=main.ticket_id,
        reason=f"{thread.reason}; {why}: {main.ticket_number}",
    )
    copies = tuple(
        TeamCopy(
            f"{thread.reason}; {why}: {f.ticket_number}",
            f.team_id,
            f.team,
            ticket_id=f.ticket_id,
            ticket_number=f.ticket_number,
        )
        for f in targets
        if f is not main
    )
    return TeamRoute(routed, None, copies)
