"""Locking the tickets a batch's mail names before the batch reads them (PostgreSQL).

A reply updates its ticket's row (its version, `updated_at`, perhaps its status and SLA
facts) and holds that row lock until its batch commits. Taken as each message threads, two
workers' batches that answer the same two tickets in opposite orders deadlock (PostgreSQL
breaks one after `deadlock_timeout`), and a ticket read before the other worker's commit
fails the ORM's version check when it is written: either way a whole batch ran again (10 of
them in four two-worker runs of `bench.workers`, 2026-12-05).

So a batch first finds every ticket its mail names (In-Reply-To, References and subject
numbers; the tickets those were merged into) and locks them, in id order, before it reads
any. A worker's claimed batch does not wait for a ticket another transaction holds: the
rows naming it are left for a second transaction of their own, which runs once the first
has committed and waits for those tickets, holding nothing anyone else waits for (waiting
in the first transaction, with every other ticket of the batch locked, made two workers take
turns: 1.31x one worker instead of 1.6x). The set is a superset (a number in a subject locks
that ticket even when the sender may not add to it): a lock too many only delays. A ticket a
message reaches any other way (one another worker opened a moment ago) is locked when it is
written, as before.

A worker's claimed batch also leaves out mail answering mail that no ticket holds yet while
older mail is claimed and unsettled (`behind_others`): most likely the mail it answers, in
another worker's batch that has not committed its ticket.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Final

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from hubdesk.inbound.models import InboundMessage
from hubdesk.intake.signals import thread_signals
from hubdesk.intake.threading import MAX_MERGE_HOPS, STORED_IDS, StoredIds
from hubdesk.mail.types import ParsedEmail
from hubdesk.tickets.models import Ticket

_BY_NUMBER: Final = select(Ticket.ticket_number, Ticket.id).where(
    Ticket.ticket_number.in_(bindparam("numbers", expanding=True))
)
_LOCK: Final = (
    select(Ticket.id, Ticket.merged_into_id)
    .where(Ticket.id.in_(bindparam("ids", expanding=True)))
    .order_by(Ticket.id)
    .with_for_update(key_share=True)
)
"""FOR NO KEY UPDATE, in id order (PostgreSQL locks the rows as they come out of the sort)."""
_LOCK_FREE: Final = _LOCK.with_for_update(key_share=True, skip_locked=True)


def named_tickets(
    session: Session, mails: Mapping[int, ParsedEmail], *, stored: StoredIds | None = None
) -> dict[int, set[int]]:
    """For each row id, the tickets its mail's threading signals name (two statements).
    `stored` is told what the Message-ID statement read (`threading.StoredIds`)."""
    signals = {row_id: thread_signals(mail) for row_id, mail in mails.items()}
    ids = {i for s in signals.values() for i in s.ids}
    numbers = {n for s in signals.values() for n in (*s.numbers_in_ids, *s.subject_numbers)}
    by_id: dict[str, set[int]] = {}
    if ids:
        rows = [(row[0], row[1]) for row in session.execute(STORED_IDS, {"ids": list(ids)})]
        if stored is not None:
            stored.read(session, ids, rows)
        for message_id, ticket_id in rows:
            if ticket_id is not None:
                by_id.setdefault(message_id, set()).add(ticket_id)
    by_number: dict[str, int] = {}
    if numbers:
        for number, ticket_id in session.execute(_BY_NUMBER, {"numbers": list(numbers)}):
            by_number[number] = ticket_id
        if stored is not None:
            stored.numbers = {number.upper(): ticket for number, ticket in by_number.items()}
            stored.absent = frozenset(n.upper() for n in numbers) - stored.numbers.keys()
    named: dict[int, set[int]] = {}
    for row_id, found in signals.items():
        tickets = {t for i in found.ids for t in by_id.get(i, ())}
        tickets |= {
            by_number[n] for n in (*found.numbers_in_ids, *found.subject_numbers) if n in by_number
        }
        if tickets:
            named[row_id] = tickets
    return named


def lock(session: Session, named: Mapping[int, Iterable[int]], *, wait: bool) -> frozenset[int]:
    """Lock the tickets `named` (row id -> ticket ids) and those they were merged into, in id
    order. With `wait`, a ticket another transaction holds is waited for; without, it is left
    alone and the ids of the rows that name it (or a ticket merged into it) are returned."""
    wanted = {t for tickets in named.values() for t in tickets}
    merged_into: dict[int, int] = {}
    held: set[int] = set()
    asked: set[int] = set()
    statement = _LOCK if wait else _LOCK_FREE
    for _ in range(MAX_MERGE_HOPS):
        batch = wanted - asked
        if not batch:
            break
        asked |= batch
        for ticket_id, target in session.execute(statement, {"ids": sorted(batch)}):
            held.add(ticket_id)
            if target is not None:
                merged_into[ticket_id] = target
                wanted.add(target)
    if wait:
        return frozenset()
    busy = asked - held
    return frozenset(row for row, tickets in named.items() if _reaches(tickets, merged_into, busy))


def _reaches(tickets: Iterable[int], merged_into: Mapping[int, int], busy: set[int]) -> bool:
    for ticket in tickets:
        for _ in range(MAX_MERGE_HOPS):
            if ticket in busy:
                return True
            if ticket not in merged_into:
                break
            ticket = merged_into[ticket]
    return False


_OLDEST_IN_FLIGHT: Final = select(func.min(InboundMessage.id)).where(
    InboundMessage.status == "received",
    InboundMessage.attempts > 0,
    InboundMessage.id < bindparam("below"),
    InboundMessage.id.not_in(bindparam("batch", expanding=True)),
)
"""The oldest ledger row below a row that some process claimed and has not settled: in
another worker's open batch, handed back by one between its batches, or taken by the IMAP or
HTTP path, which run their own rows."""


def behind_others(
    session: Session,
    mails: Mapping[int, ParsedEmail],
    named: Mapping[int, Collection[int]],
    batch: Collection[int],
    busy: Collection[int],
) -> frozenset[int]:
    """PostgreSQL, a worker's claimed batch (row ids `batch`, of which `busy` cannot run now):
    the rows to hand back besides `busy`.

    - A row whose mail refers to other mail (In-Reply-To, References, a ticket number) that
      names no ticket and is not in the batch, while older mail is claimed and not settled:
      most likely the mail it answers, whose ticket another process has not committed. Run
      now, the reply would open a ticket of its own (121 of 1,657 replies with two workers on
      a 3,000-mail backlog, none with one, 2026-12-06).
    - A row whose mail answers mail of a row handed back (that row runs first)."""
    own = {mail.message_id: row_id for row_id, mail in mails.items()}
    answers: dict[int, set[int]] = {}
    orphans = []
    for row_id, mail in mails.items():
        signals = thread_signals(mail)
        answers[row_id] = {own[i] for i in signals.ids if i in own and own[i] != row_id}
        if row_id in named or answers[row_id]:
            continue
        if signals.ids or signals.numbers_in_ids or signals.subject_numbers:
            orphans.append(row_id)
    later: set[int] = set()
    if orphans:
        oldest = session.scalar(_OLDEST_IN_FLIGHT, {"below": max(orphans), "batch": list(batch)})
        if oldest is not None:
            later = {row_id for row_id in orphans if row_id > oldest}
    held = later | set(busy)
    grown = True
    while grown:  # mail answering mail handed back, however long the chain
        more = {row_id for row_id, of in answers.items() if row_id not in held and of & held}
        held |= more
        grown = bool(more)
    return frozenset(held - set(busy))
