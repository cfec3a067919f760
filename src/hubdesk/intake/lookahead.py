"""What a bulk batch reads once per chunk instead of once per message.

`hubdesk ingest` keeps a chunk of messages in the ledger with one statement
(`hubdesk.intake.bulk`); `prepare` then parses the chunk's messages (the parse is pure, so
doing it a little earlier changes nothing) and reads, with one statement each for the whole
chunk, what every message would otherwise ask the database for one at a time:

- the senders' contacts (`customers.prefetch_contacts`: found ones are kept for the
  transaction, absent ones are known to be absent, so `ensure_contact` inserts at once);
- the other settled ledger rows that carry one of the chunk's Message-IDs (the
  `message_id_collision` flag, `dedupe.same_message_id_exists`);
- the raw dedupe keys of the chunk's bytes: a message whose bytes another row already holds
  (the re-run of an import that stopped) is a duplicate, and is not parsed at all;
- the chunk's dedupe claims (`dedupe.claim_ahead`): on SQLite which of its raw and content
  keys are held, so that each message's claim is made in memory; on PostgreSQL the claims
  themselves, one statement for the chunk;
- on PostgreSQL, the tickets the chunk's replies may be added to, locked before any is read
  (`hubdesk.intake.ticket_locks`), and how many of its messages may open a ticket (the size
  of the next block of ticket numbers, `tickets.numbers.expect`).

What the chunk itself changes is accounted for: a Message-ID that two messages of the chunk
carry is also looked for among the chunk's own rows, as settled in memory (an earlier
message of the chunk may have been settled by then, its row not written yet; before this
module, a batch without savepoints missed that collision), and a contact made by an earlier
message of the batch is found in the transaction's own contacts first.
On PostgreSQL another worker can commit in between; what it commits is then seen as if it
had committed just after the message was processed: a contact it made meanwhile is caught
by `ensure_contact`'s INSERT ... ON CONFLICT DO NOTHING, which then reads it.

Everything lives in the session's `info`, so it lasts one transaction (one batch attempt);
sessions without it (one-message paths, reprocessing) ask per message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hubdesk.customers import service as customers
from hubdesk.db import reads
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import DedupeKey, InboundMessage
from hubdesk.intake import dedupe, prologue, threading, ticket_locks
from hubdesk.mail.types import ParsedEmail, ParseRejection
from hubdesk.runtime import Runtime
from hubdesk.sla.models import SlaClock
from hubdesk.tickets import numbers
from hubdesk.tickets.models import Ticket, TicketLink, TicketParticipant

_KEY: Final = "hubdesk_lookahead"


@dataclass
class _Chunk:
    parsed: dict[tuple[int, str], ParsedEmail | ParseRejection] = field(default_factory=dict)
    """Parsed mail by (ledger row id, raw sha256), taken by the row's run."""
    settled_ids: dict[str, set[int]] = field(default_factory=dict)
    """Message-ID -> the settled ledger rows carrying it, as read at the chunk's start."""
    covered: frozenset[str] = frozenset()
    """The Message-IDs the chunk's read asked for."""
    repeated: frozenset[str] = frozenset()
    """Message-IDs two or more of the chunk's messages carry (looked for in `rows` too)."""
    known_bytes: frozenset[int] = frozenset()
    """Rows whose raw bytes another ledger row already holds (not parsed: duplicates)."""
    rows: Sequence[InboundMessage] = ()
    """The chunk's ledger rows: what their runs settle is seen here before it is written."""


_SETTLED_WITH_IDS: Final = select(
    InboundMessage.message_id, InboundMessage.id, InboundMessage.status
).where(InboundMessage.message_id.in_(bindparam("ids", expanding=True)))
"""The ledger rows with the chunk's Message-IDs. Their status is tested by the caller, not
here: with it in the statement SQLite planned the (status, received_at) index, every
processed row of the ledger read again by every chunk (6 % of a batch's time at 4,000
mails, and growing with the ledger; `bench/README.md`, "Issue 9, 2026-12-06")."""
_SETTLED: Final = frozenset(("processed", "ignored"))


def prepare(
    session: Session,
    runtime: Runtime,
    rows: Sequence[InboundMessage],
    ahead: Sequence[ParsedEmail | ParseRejection | None] = (),
    *,
    wait_for_tickets: bool = True,
) -> frozenset[int]:
    """Parse the chunk `rows` and read what their messages will ask for (see the module).
    `ahead` holds what a parse helper already parsed for them, in order (None: not parsed).
    On PostgreSQL the tickets the chunk's mail names are locked (`ticket_locks`); without
    `wait_for_tickets`, those another transaction holds are left alone, and the ids of the
    rows naming them are returned: the caller runs those rows later.

    `rows` may still be new objects (a SQLite batch writes a chunk's ledger rows with
    their fates, `inbound.add_received_many`). None of the reads here could see one of
    them (each asks for other rows: settled ones, the holders of keys, tickets, contacts),
    so they run without an autoflush, after anything else pending is written."""
    own = {id(row) for row in rows}
    if session.dirty or session.deleted or any(id(obj) not in own for obj in session.new):
        session.flush()
    with session.no_autoflush:
        return _prepare(session, runtime, rows, ahead, wait_for_tickets)


def _prepare(
    session: Session,
    runtime: Runtime,
    rows: Sequence[InboundMessage],
    ahead: Sequence[ParsedEmail | ParseRejection | None],
    wait_for_tickets: bool,
) -> frozenset[int]:
    chunk = _Chunk(rows=rows)
    chunk.known_bytes = _known_bytes(session, rows)
    for index, row in enumerate(rows):
        if row.status != "received" or row.raw_purged_at is not None:
            continue
        if row.id in chunk.known_bytes:
            continue
        parsed = ahead[index] if index < len(ahead) else None
        if parsed is None or parsed.raw_sha256 != row.raw_sha256:
            try:
                parsed = prologue.parse(runtime, inbound.raw_bytes(runtime.blobs, row))
            except Exception:  # noqa: S112 - the row's own run parses again and fails there
                continue
        chunk.parsed[(row.id, row.raw_sha256)] = parsed
    mails = [p for p in chunk.parsed.values() if isinstance(p, ParsedEmail)]
    ids = Counter(p.message_id for p in mails if not p.message_id_synthetic)
    chunk.covered = frozenset(ids)
    chunk.repeated = frozenset(i for i, n in ids.items() if n > 1)
    if ids:
        found = session.execute(_SETTLED_WITH_IDS, {"ids": list(ids)})
        for message_id, inbound_id, status in found:
            if message_id is not None and status in _SETTLED:
                chunk.settled_ids.setdefault(message_id, set()).add(inbound_id)
    senders = {p.from_.email for p in mails if p.from_ is not None}
    customers.prefetch_contacts(session, senders)
    received = {row.id: row.received_at for row in rows}
    prologue.read_opened(
        session,
        [
            (p.from_.email, received[row_id])
            for (row_id, _sha), p in chunk.parsed.items()
            if isinstance(p, ParsedEmail) and p.from_ is not None
        ],
        runtime.settings.new_tickets_per_sender_per_hour,
    )
    stored = threading.StoredIds(own=frozenset(p.message_id for p in mails))
    by_row = {row_id: p for (row_id, _sha), p in chunk.parsed.items() if isinstance(p, ParsedEmail)}
    named = ticket_locks.named_tickets(session, by_row, stored=stored)
    busy: frozenset[int] = frozenset()
    if session.get_bind().dialect.name == "postgresql":
        busy = ticket_locks.lock(session, named, wait=wait_for_tickets)
        if not wait_for_tickets:  # a worker's claimed batch: mail answering mail in flight
            busy |= ticket_locks.behind_others(
                session, by_row, named, [row.id for row in rows], busy
            )
    # the claims the rows run here will make, answered from memory (`dedupe.claim_ahead`)
    dedupe.claim_ahead(session, _wanted(rows, chunk, busy))
    # how many may open a ticket: the size of a PostgreSQL batch's next block of numbers
    opening = {row_id for (row_id, _sha), p in chunk.parsed.items() if isinstance(p, ParsedEmail)}
    numbers.expect(session, len(opening - busy - named.keys()))
    _load_replied_tickets(session, {t for tickets in named.values() for t in tickets})
    session.info[_KEY] = chunk
    session.info[threading.STORED_READ] = stored
    return busy


def _wanted(
    rows: Sequence[InboundMessage], chunk: _Chunk, busy: frozenset[int]
) -> list[dedupe.Wanted]:
    """What each row's run will claim (`pipeline._steps`): bytes another row holds and
    mail that is not an email claim the raw key alone, an email both keys; a row whose
    parse raised, or that runs later, claims nothing here."""
    wanted = []
    for row in rows:
        if row.id in busy:
            continue
        raw = dedupe.raw_key(row.raw_sha256)
        if row.id in chunk.known_bytes:
            wanted.append(dedupe.Wanted(row.id, raw, None))
        elif (parsed := chunk.parsed.get((row.id, row.raw_sha256))) is not None:
            content = dedupe.content_key(parsed) if isinstance(parsed, ParsedEmail) else None
            wanted.append(dedupe.Wanted(row.id, raw, content))
    return wanted


def _load_replied_tickets(session: Session, ticket_ids: set[int]) -> None:
    """The tickets the chunk's mail names, with their SLA clocks, participants and
    `same_email` families: what each reply reads next (its ticket, the clock its comment
    moves, whether its sender takes part already, the other teams' tickets), now in the
    session (held for the batch) instead of a read each."""
    session.info[prologue.FAMILIES_READ] = {}
    if not ticket_ids:
        return
    wanted = list(ticket_ids)
    # a ticket this batch opened is held with its clock and participants since (each made
    # in the batch, `reads.made_mark`): nothing of it to read
    made = reads.made_mark(session, Ticket) or frozenset()
    unread = [ticket_id for ticket_id in wanted if ticket_id not in made]
    if unread:
        for statement in _REPLIED:
            session.scalars(statement, {"ids": unread}).all()
    if prologue.any_same_email_links(session):
        families: dict[int, list[int]] = {ticket_id: [] for ticket_id in wanted}
        for ticket_id, linked in session.execute(_FAMILIES, {"ids": wanted}):
            families[ticket_id].append(linked)
        session.info[prologue.FAMILIES_READ] = families


_REPLIED: Final = tuple(
    select(model).where(key.in_(bindparam("ids", expanding=True)))
    for model, key in (
        (Ticket, Ticket.id),
        (SlaClock, SlaClock.ticket_id),
        (TicketParticipant, TicketParticipant.ticket_id),
    )
)
"""What `_load_replied_tickets` reads, built once (a statement built anew each chunk
generated its cache key again)."""

_FAMILIES: Final = select(TicketLink.ticket_id, TicketLink.linked_ticket_id).where(
    TicketLink.ticket_id.in_(bindparam("ids", expanding=True)), TicketLink.kind == "same_email"
)


_RAW_KEYS_HELD: Final = select(DedupeKey.key, DedupeKey.inbound_id).where(
    DedupeKey.key.in_(bindparam("keys", expanding=True))
)


def _known_bytes(session: Session, rows: Sequence[InboundMessage]) -> frozenset[int]:
    """The rows whose raw dedupe key another row holds: bytes we have (a re-run of an
    import that stopped, the same file given twice), told apart without parsing them."""
    keys = {
        dedupe.raw_key(row.raw_sha256): row.id
        for row in rows
        if row.status == "received" and row.raw_purged_at is None
    }
    if not keys:
        return frozenset()
    owners = {
        keys[key]: owner
        for key, owner in session.execute(_RAW_KEYS_HELD, {"keys": list(keys)})
        if owner != keys[key]
    }
    if owners:
        # what each duplicate's run reads next: the rows holding its bytes and their
        # tickets, now in the session (held for the batch) instead of one read each
        originals = session.scalars(
            select(InboundMessage).where(InboundMessage.id.in_(set(owners.values())))
        ).all()
        tickets = {o.ticket_id for o in originals if o.ticket_id is not None}
        if tickets:
            session.scalars(select(Ticket).where(Ticket.id.in_(tickets))).all()
    return frozenset(owners)


def known_bytes(session: Session, row: InboundMessage) -> bool:
    """Whether `prepare` found that another ledger row holds `row`'s raw bytes (`row` was
    then not parsed: its run claims the raw key first, and parses only if it must)."""
    chunk: _Chunk | None = session.info.get(_KEY)
    return chunk is not None and row.id in chunk.known_bytes


def parsed(session: Session, row: InboundMessage) -> ParsedEmail | ParseRejection | None:
    """The mail `prepare` parsed for `row` (once: None the second time, and without it)."""
    chunk: _Chunk | None = session.info.get(_KEY)
    if chunk is None:
        return None
    return chunk.parsed.pop((row.id, row.raw_sha256), None)


def same_message_id_exists(session: Session, mail: ParsedEmail, inbound_id: int) -> bool:
    """`dedupe.same_message_id_exists`, answered from the chunk's read where it can be."""
    chunk: _Chunk | None = session.info.get(_KEY)
    if mail.message_id_synthetic:
        return False
    if chunk is None or mail.message_id not in chunk.covered:
        return dedupe.same_message_id_exists(session, mail, inbound_id)
    if mail.message_id in chunk.repeated and any(
        # an earlier message of the chunk may carry it: its row, settled in memory and
        # written by the batch's next flush (before this module, a flush of its own)
        row.id != inbound_id and row.message_id == mail.message_id and row.status in _SETTLED
        for row in chunk.rows
    ):
        return True
    return bool(chunk.settled_ids.get(mail.message_id, set()) - {inbound_id})
