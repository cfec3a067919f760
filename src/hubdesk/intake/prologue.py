"""The reads every route starts with, written once: parse, trust, thread, and the facts the
planner needs (the enabled workflows, the sender's throttle state, the ticket a reply threads
to). Ingest (`pipeline`), `hubdesk plan` (`preview`), triage decisions and workflow retries
all come through here, so they see the same mail the same way.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import TextualSelect, bindparam, func, select, text
from sqlalchemy.orm import Session

from hubdesk.budgets import mail_limits
from hubdesk.classifier.rules import Verdict
from hubdesk.config import Settings
from hubdesk.db import reads
from hubdesk.db.memo import memo
from hubdesk.db.reads import touching
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake.parse_ahead import ParseOptions, parse_raw
from hubdesk.intake.planner import LinkTarget, RoutePlan, plan_route
from hubdesk.intake.signals import thread_signals
from hubdesk.intake.teams import FamilyTicket, TeamAddress
from hubdesk.intake.threading import resolve
from hubdesk.intake.trust import sender_trust
from hubdesk.intake.types import SenderTrust, ThreadDecision
from hubdesk.mail.types import ParsedEmail, ParseRejection
from hubdesk.mailboxes import service as mailboxes
from hubdesk.mailboxes.models import Mailbox, MailboxAddress
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import EmailLog, Ticket, TicketLink
from hubdesk.tickets.states import OPEN_STATES
from hubdesk.users.models import Group
from hubdesk.workflows import engine
from hubdesk.workflows.models import Workflow


def parse(runtime: Runtime, raw: bytes) -> ParsedEmail | ParseRejection:
    """The parsed mail, or why it is quarantined (including bytes that are not an email)."""
    return parse_raw(raw, parse_options(runtime.settings))


def parse_options(settings: Settings) -> ParseOptions:
    return ParseOptions(mail_limits(settings), settings.trusted_authserv_id)


def thread_of(
    session: Session, runtime: Runtime, parsed: ParsedEmail, envelope: Mapping[str, Any] | None
) -> tuple[SenderTrust, ThreadDecision]:
    trust = sender_trust(parsed, envelope)
    thread = resolve(
        session,
        parsed,
        thread_signals(parsed),
        policy=runtime.settings.ticket_threading_policy,
        secret_key=runtime.secret_key,
        trust=trust,
    )
    return trust, thread


def plan_for(
    session: Session,
    runtime: Runtime,
    parsed: ParsedEmail,
    thread: ThreadDecision,
    verdict: Verdict,
    received_at: datetime,
    *,
    envelope: Mapping[str, Any] | None = None,
    mailbox_id: int | None = None,
) -> RoutePlan:
    """Read what the planner needs, then plan (the planner itself does no I/O)."""
    settings = runtime.settings
    sender = parsed.from_.email if parsed.from_ else ""
    return plan_route(
        parsed,
        thread,
        verdict,
        enabled_workflows(session) if settings.email_workflows_enabled else (),
        throttled=None if thread.links else throttled(session, settings, sender, received_at),
        settings=settings,
        received_at=received_at,
        target=link_target(session, thread),
        teams=addressed_teams(session, parsed, envelope, mailbox_id),
        family=linked_family(session, thread),
    )


def addressed_teams(
    session: Session,
    parsed: ParsedEmail,
    envelope: Mapping[str, Any] | None,
    mailbox_id: int | None,
) -> tuple[TeamAddress, ...]:
    """The teams of our mailboxes the mail was sent to, one address each: the delivering
    mailbox's team first, then in the order of the envelope recipients (or, when the
    channel names neither, the topmost `Delivered-To`), To and Cc."""
    headers = (*(a.email for a in parsed.to), *(a.email for a in parsed.cc))
    if mailbox_id is None and not _rcpt(envelope):
        delivered = parsed.header("delivered-to")
        headers = (delivered, *headers) if delivered else headers
    return _teams_of(session, mailbox_id, envelope, headers)


def delivery_teams(
    session: Session,
    envelope: Mapping[str, Any] | None,
    mailbox_id: int | None,
    parsed: ParsedEmail | None = None,
) -> tuple[TeamAddress, ...]:
    """The teams this one delivery reached, To and Cc aside: the mailbox it was fetched
    from or delivered to, its envelope recipients, and, when the channel names neither
    (mail handed in over HTTP), the topmost `Delivered-To` header. A Bcc copy is known by
    these alone."""
    rcpt = _rcpt(envelope)
    extra: tuple[str, ...] = ()
    if mailbox_id is None and not rcpt and parsed is not None:
        delivered = parsed.header("delivered-to")
        extra = (delivered,) if delivered else ()
    return _teams_of(session, mailbox_id, envelope, extra)


def mailbox_team(
    session: Session, envelope: Mapping[str, Any] | None, mailbox_id: int | None
) -> int | None:
    """The team of the mailbox a message arrived at (None: no team), for mail an agent
    releases by hand (triage, quarantine)."""
    if mailbox_id is not None:
        mailbox = session.get(Mailbox, mailbox_id)
        return mailbox.team_id if mailbox is not None else None
    found = delivery_teams(session, envelope, None)
    return found[0].team_id if found else None


def inbound_team(session: Session, inbound_id: int) -> int | None:
    """`mailbox_team` of ledger row `inbound_id` (None when there is no such row)."""
    row = reads.get(session, InboundMessage, inbound_id)  # a batch's new row too
    return mailbox_team(session, row.envelope, row.mailbox_id) if row is not None else None


def _rcpt(envelope: Mapping[str, Any] | None) -> list[str]:
    return [str(a) for a in (envelope or {}).get("rcpt_to") or () if isinstance(a, str)]


def has_team_addresses(session: Session) -> bool:
    """Whether any mailbox address belongs to a team (else no delivery reaches a team)."""
    return bool(_address_teams(session))


def _address_teams(session: Session) -> dict[str, tuple[int, str]]:
    return memo(
        session,
        "mailbox_address_teams",
        lambda: mailboxes.address_teams(session),
        depends_on=(MailboxAddress, Mailbox, Group),
    )


def _teams_of(
    session: Session,
    mailbox_id: int | None,
    envelope: Mapping[str, Any] | None,
    addresses: tuple[str, ...],
) -> tuple[TeamAddress, ...]:
    by_address = _address_teams(session)
    if not by_address:
        return ()
    found: dict[int, TeamAddress] = {}
    mailbox = session.get(Mailbox, mailbox_id) if mailbox_id is not None else None
    if mailbox is not None:
        for address in mailbox.addresses:
            if address in by_address:
                team_id, name = by_address[address]
                found[team_id] = TeamAddress(address, team_id, name)
                break
    for raw in (*_rcpt(envelope), *addresses):
        address = raw.strip().strip("<>").lower()
        team = by_address.get(address) or by_address.get(mailboxes.base_address(address))
        if team is not None and team[0] not in found:
            found[team[0]] = TeamAddress(address, team[0], team[1])
    return tuple(found.values())


def linked_family(session: Session, thread: ThreadDecision) -> tuple[FamilyTicket, ...]:
    """For a reply: its ticket and the tickets one earlier email opened with it for other
    teams (`same_email` links), live ones only, in ticket order."""
    if thread.ticket_id is None or not any_same_email_links(session):
        return ()
    ids = [thread.ticket_id]
    known: dict[int, list[int]] = session.info.get(FAMILIES_READ, {})
    if thread.ticket_id in known and not any(reads.pending_of(session, TicketLink)):
        ids += known[thread.ticket_id]
    else:
        with touching(session, TicketLink):
            ids += session.scalars(
                select(TicketLink.linked_ticket_id).where(
                    TicketLink.ticket_id == thread.ticket_id, TicketLink.kind == "same_email"
                )
            )
    if len(ids) == 1:
        return ()
    rows = session.execute(
        select(Ticket.id, Ticket.ticket_number, Ticket.team_id, Group.name)
        .outerjoin(Group, Group.id == Ticket.team_id)
        .where(Ticket.id.in_(ids), Ticket.deleted_at.is_(None), Ticket.merged_into_id.is_(None))
        .order_by(Ticket.id)
    )
    return tuple(FamilyTicket(i, number, team_id, name) for i, number, team_id, name in rows)


FAMILIES_READ: Final = "hubdesk_families"
"""A bulk chunk's read of the `same_email` links of the tickets its mail names (ticket id ->
linked ticket ids; `intake.lookahead`). Such links are made when one email opens its
tickets, in that email's transaction: a ticket that existed when the chunk was read has all
of its links in the read."""


def any_same_email_links(session: Session) -> bool:
    """Whether any `same_email` link may exist: without teams there is none, and a reply
    need not ask for its ticket's family. On SQLite it is read once per transaction (so
    once per bulk batch) and again after the session writes a link; links this session has
    not flushed yet count (they are in its `new`). SQLite serialises writers, so no other
    process can add one while the transaction lasts. On PostgreSQL another worker can
    commit a ticket's email and its links during a batch, and a reply that finds the one
    must find the others: there the answer is always "ask"."""
    if session.get_bind().dialect.name != "sqlite":
        return True
    if any(reads.pending_of(session, TicketLink)):
        return True
    return memo(
        session,
        "any_same_email_links",
        lambda: (
            session.scalar(
                select(TicketLink.ticket_id).where(TicketLink.kind == "same_email").limit(1)
            )
            is not None
        ),
        depends_on=(TicketLink,),
    )


def enabled_workflows(session: Session) -> list[Workflow]:
    """The enabled workflows in order (read once per transaction, so once per bulk batch)."""
    return memo(
        session,
        "enabled_workflows",
        lambda: engine.enabled_workflows(session),
        depends_on=(Workflow,),
    )


def link_target(session: Session, thread: ThreadDecision) -> LinkTarget | None:
    if thread.ticket_id is None:
        return None
    ticket = reads.get(session, Ticket, thread.ticket_id)
    if ticket is None:
        return None
    return LinkTarget(ticket.status in OPEN_STATES, ticket.closed_at or ticket.resolved_at)


_OPENED_SINCE: Final = (
    EmailLog.direction == "inbound",
    EmailLog.is_reply.is_(False),
    EmailLog.created_at >= bindparam("since"),
)
"""A ticket a sender opened since a moment (`throttled` counts the batch's unwritten rows
with the same test)."""

_OPENED: Final = (
    select(func.count())
    .select_from(EmailLog)
    .where(EmailLog.email_from == bindparam("sender"), *_OPENED_SINCE)
)
"""How many tickets a sender opened since a moment (built once)."""


@dataclass
class OpenedRead:
    """When each sender of a bulk chunk opened tickets in the hour before its mail, read
    once for the chunk (`read_opened`). A sender with two or more mails in the chunk adds
    the tickets the batch opened since the read (its earlier mail may have opened one):
    the email-log rows the session made since (`db.reads.made_of`), told apart from the
    ones made before by their ids (numbered at once in a bulk batch, `db.ids`). Where the
    session does not track what it made, such a sender is asked again."""

    since: datetime
    senders: frozenset[str]
    repeated: frozenset[str] = frozenset()
    opened: dict[str, list[datetime]] = field(default_factory=dict)
    made_before: frozenset[int] | None = None
    """The ids of the email-log rows the session had made at the read (None: not tracked)."""
    took: int | None = None
    """The most rows read a sender (`read_opened`: the limit and one, or `READ_ABOVE` and
    one where the limit is above `READ_AT_MOST`); None: every row was read."""
    limit: int | None = None
    """The throttle's limit the read was made for."""
    totals: dict[str, int] = field(default_factory=dict)
    """How many tickets each sender with more rows than were read opened since `since`
    (counted where the limit is above what was read a sender)."""

    def capped(self, sender: str, since: datetime) -> bool:
        """Whether `count` for `since` counted every row read of a sender that has more."""
        rows = self.opened.get(sender, ())
        return self.took is not None and len(rows) >= self.took and min(rows) >= since

    def count(self, session: Session, sender: str, since: datetime) -> int | None:
        if sender not in self.senders or since < self.since:
            return None
        total = self.totals.get(sender)
        if self.capped(sender, since) and total is not None:
            # more rows than were read, under a limit above them: the sender's count since
            # the read's moment, which a later mail's window can only lower, decides while
            # it stays under the limit; at the limit the mail's own window is counted
            opened = total
        else:
            opened = sum(1 for at in self.opened.get(sender, ()) if at >= since)
        if sender in self.repeated:
            made = reads.made_since(session, EmailLog, self.made_before)
            if made is None:
                return None
            opened += sum(1 for log in made if _opened_by(log, sender, since))
        if total is not None and opened >= (self.limit or 0):
            return None
        return opened


OPENED_READ: Final = "hubdesk_opened"

_OPENED_TOTALS: Final = (
    select(EmailLog.email_from, func.count())
    .where(EmailLog.email_from.in_(bindparam("senders", expanding=True)), *_OPENED_SINCE)
    .group_by(EmailLog.email_from)
)
"""How many tickets each sender opened since a moment, counted off the sender index."""

READ_AT_MOST: Final = 100
"""The highest limit under which `read_opened` reads a sender's rows up to the limit and one
(so the count is exact up to the limit and a sender past it reads "at least")."""
READ_ABOVE: Final = 10
"""The rows `read_opened` takes a sender where the limit is above `READ_AT_MOST`: a sender
with more in the window is counted in the database instead (`_OPENED_TOTALS`, the sender
index alone), not read row by row into the chunk. (With 100 and one read a sender, a chunk
read 2,500 rows at 930,000 stored emails with the limit out of reach, 11 % of a batch.)"""


_PARTS_AT_MOST: Final = 100
"""Senders a statement of `_newest_opened` reads at most (SQLite allows 500 parts of a
compound SELECT; a worker's claimed batch is read ahead as one chunk of up to
`HUBDESK_INGEST_BATCH_MESSAGES` mails)."""


def _parts_for(senders: int) -> int:
    """The parts of the statement that reads `senders` senders: the next power of two (at
    most `_PARTS_AT_MOST`), the parts past them asking for no sender (NULL matches no row).
    Each number of parts is a statement SQLAlchemy compiles once per process (5-8 ms for
    16 to 25 parts): with one a number of senders, `bench.bulk_cpu --count 1000` compiled
    eight, this way two (2026-12-06)."""
    return min(1 << (senders - 1).bit_length(), _PARTS_AT_MOST)


_NEWEST_PART: Final = (
    "SELECT email_from, created_at FROM (SELECT email_from, created_at FROM tticket_email_log"
    " WHERE email_from = :sender_{n} AND direction = 'inbound' AND is_reply = :no"
    " AND created_at >= :since ORDER BY created_at DESC LIMIT :take) AS newest_{n}"
)
"""One part of `_newest_opened`, for the sender `{n}`: the test of `_OPENED_SINCE`."""


@functools.cache
def _newest_opened(senders: int) -> TextualSelect:
    """When each of `senders` senders (`sender_0`, ...) opened its newest tickets since a
    moment, at most `take` rows a sender: one part a sender, each the newest rows of the
    sender's index range (`ix_tticket_email_log_sender_opened`, read from its end), so that
    a sender with a long import behind it costs `take` rows, not its whole hour. (A window
    function over all the senders' rows ranked every row of the window first: with the limit
    raised out of reach, 70 % of a batch's time at 900,000 stored emails, 2026-12-06.)

    Written as text (`_NEWEST_PART`): SQLAlchemy compiled the same UNION of 32 parts built
    from the ORM in 9-14 ms, once per number of parts and process, about 5 % of a 1,000-mail
    run's first batch (2026-12-06)."""
    parts = [_NEWEST_PART.replace("{n}", str(n)) for n in range(senders)]
    return (
        text(" UNION ALL ".join(parts))
        .bindparams(
            bindparam("no", False, type_=EmailLog.is_reply.type),
            bindparam("since", type_=EmailLog.created_at.type),
        )
        .columns(EmailLog.email_from, EmailLog.created_at)
    )


def _opened_by(log: EmailLog, sender: str, since: datetime) -> bool:
    """Whether `log` (not written yet) is a ticket `sender` opened since `since`, as the
    statement `_OPENED` counts."""
    return (
        log.email_from == sender
        and log.direction == "inbound"
        and not log.is_reply
        and log.created_at >= since
    )


def read_opened(session: Session, mails: Iterable[tuple[str, datetime]], limit: int) -> None:
    """Read, for a bulk chunk's (sender, received at) pairs, what `throttled` counts with
    the limit `limit`, with one statement (kept in the session for the chunk)."""
    pairs = [(sender, at) for sender, at in mails if sender]
    times = Counter(sender for sender, _at in pairs)
    if not times:
        session.info.pop(OPENED_READ, None)
        return
    since = min(at for _sender, at in pairs) - timedelta(hours=1)
    took = (limit if limit <= READ_AT_MOST else READ_ABOVE) + 1
    read = OpenedRead(
        since,
        frozenset(times),
        repeated=frozenset(s for s, n in times.items() if n > 1),
        made_before=reads.made_mark(session, EmailLog),
        took=took,
        limit=limit,
    )
    senders = sorted(read.senders)
    with touching(session, EmailLog, where=lambda log: log.email_from in read.senders):
        for start in range(0, len(senders), _PARTS_AT_MOST):
            some = senders[start : start + _PARTS_AT_MOST]
            parts = _parts_for(len(some))
            values: dict[str, object] = {f"sender_{n}": None for n in range(len(some), parts)}
            values |= {f"sender_{n}": sender for n, sender in enumerate(some)}
            values |= {"since": since, "take": took}
            for sender, at in session.execute(_newest_opened(parts), values):
                read.opened.setdefault(sender, []).append(at)
        if took <= limit:  # a sender with more rows than were read: counted
            more = [s for s in senders if read.capped(s, since)]
            if more:
                counts = session.execute(_OPENED_TOTALS, {"senders": more, "since": since})
                for sender, count in counts:
                    read.totals[sender] = count
    session.info[OPENED_READ] = read


def throttled(
    session: Session, settings: Settings, sender: str, received_at: datetime
) -> str | None:
    """Why a sender may open no more tickets now (TICKET_NEW_PER_SENDER_PER_HOUR), if so."""
    if not sender:
        return None
    since = received_at - timedelta(hours=1)
    chunk: OpenedRead | None = session.info.get(OPENED_READ)
    opened = chunk.count(session, sender, since) if chunk is not None else None
    at_least = opened is not None and chunk is not None and chunk.capped(sender, since)
    if opened is None:
        with touching(
            session, EmailLog, where=lambda log: log.email_from == sender, new_in_memory=True
        ):
            opened = session.scalar(_OPENED, {"sender": sender, "since": since}) or 0
        # the batch's own rows not written yet, counted as the statement counts
        opened += sum(
            1 for log in reads.pending_of(session, EmailLog) if _opened_by(log, sender, since)
        )
    limit = settings.new_tickets_per_sender_per_hour
    if opened >= limit:
        many = f"at least {opened}" if at_least else str(opened)
        return (
            f"throttled: {sender} opened {many} tickets in the last hour "
            f"(TICKET_NEW_PER_SENDER_PER_HOUR={limit})"
        )
    return None
