"""Ticket numbers `TKT-YYYYMMDD-NNN`: the creation date in HUBDESK_TIMEZONE and a per-day
sequence, zero-padded to three digits, that grows to four and more after 999.

The sequence is a counter row per day advanced by one atomic upsert with RETURNING (both
SQLite >= 3.35 and PostgreSQL), never `max()+1`: concurrent writers from many processes
serialise on the counter row and each gets its own value.

In a bulk batch (a session with `hubdesk.db.deferred` enabled) only a day's first number
is reserved by the upsert; it locks the counter row until the batch commits (SQLite: the
whole database is the batch's), so the batch's further numbers are counted on in memory and
the counter is advanced once, by one UPDATE right before the commit. What a message took is
given back when its savepoint rolls back (`deferred.rollback_to`), so the numbers of a
batch stay consecutive when a message in its middle fails; if the savepoint that made the
upsert rolls back, the next ticket reserves by the upsert again.

On PostgreSQL, where several workers run batches at once, holding the counter row for a
whole batch made their batches of new-ticket mail take turns (`bench/README.md`: two
workers did 0.80x one, most of their waiting on that row). There a batch reserves numbers
with a statement of its own, committed at once on a second connection (`hubdesk.db.quick`;
`synchronous_commit` off, which is safe: the batch's own commit flushes the log past it),
so the row is locked for one statement. It reserves a block at a time: as many numbers as
the chunk it runs has messages that may open a ticket (`expect`, from
`hubdesk.intake.lookahead`), at least one. The numbers of the block it has not used yet,
and a number whose message (savepoint) or whole batch attempt rolled back, are kept by this
process (`_Spares`, per engine and day) and given to its next new tickets, lowest first.
When a batch's transaction ends, the unused end of the process's last block goes back to
the counter unless another process reserved after it (one conditional UPDATE), so a lone
importer leaves no gap; a gap is left only by a process that ends holding spares it could
not give back (a crash, or a stop after another worker reserved). Numbers stay unique and
increasing within a process; those of concurrent workers interleave. Should that statement
wait too long for the row (`hubdesk.db.quick`), the batch takes its numbers in its own
transaction from then on, as on SQLite.
"""

from __future__ import annotations

import heapq
import logging
import re
import threading
import weakref
from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Final, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction

from hubdesk.db import deferred, quick

log = logging.getLogger(__name__)

PATTERN: Final = re.compile(r"TKT-(\d{8})-(\d{3,})")
FULL_PATTERN: Final = re.compile(r"\ATKT-\d{8}-\d{3,}\Z")

_NEXT_SQL = text(
    "INSERT INTO tticket_number_counters (day, last_value) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET last_value = tticket_number_counters.last_value + 1 "
    "RETURNING last_value"
)
_RESERVE_SQL = text(
    "INSERT INTO tticket_number_counters (day, last_value) VALUES (:day, :count) "
    "ON CONFLICT (day) DO UPDATE SET last_value = tticket_number_counters.last_value + :count "
    "RETURNING last_value"
)
_RETURN_SQL = text(
    "UPDATE tticket_number_counters SET last_value = :first - 1 "
    "WHERE day = :day AND last_value = :last"
)
_ADVANCE_SQL = text(
    "UPDATE tticket_number_counters SET last_value = last_value + :taken WHERE day = :day "
    "RETURNING last_value"
)
_HELD: Final = "ticket_number_counters"
"""deferred key: day -> (the value the batch's upsert returned, numbers taken after it)"""


def format_number(day: str, sequence: int) -> str:
    return f"TKT-{day}-{sequence:03d}"


def creation_day(now: datetime, tz: ZoneInfo) -> str:
    return now.astimezone(tz).strftime("%Y%m%d")


def next_ticket_number(session: Session, now: datetime, tz: ZoneInfo) -> str:
    """Reserve the next number for the day `now` falls on in `tz` (writes the counter)."""
    day = creation_day(now, tz)
    if deferred.active(session) and session.get_bind().dialect.name == "postgresql":
        return format_number(day, _take(session, day))
    held: tuple[int, int] | None = deferred.get(session, _HELD, day)
    if held is not None:  # this batch holds the day's counter row: count on in memory
        base, taken = held
        deferred.put(session, _HELD, day, (base, taken + 1), _advance)
        return format_number(day, base + taken + 1)
    with session.no_autoflush:  # the counter row alone: the batch's rows wait for their flush
        sequence = int(session.execute(_NEXT_SQL, {"day": day}).scalar_one())
    deferred.put(session, _HELD, day, (sequence, 0), _advance)
    return format_number(day, sequence)


def _advance(session: Session, held: Mapping[Hashable, tuple[int, int]]) -> None:
    """At the batch's end: advance each day's counter past the numbers taken in memory."""
    for day, (base, taken) in held.items():
        if not taken:
            continue
        last = session.execute(_ADVANCE_SQL, {"day": day, "taken": taken}).scalar_one_or_none()
        if last != base + taken:  # pragma: no cover - the batch holds the row's lock
            raise RuntimeError(f"ticket number counter of {day} moved under the batch: {last}")


_TAKEN: Final = "ticket_numbers_taken"
"""deferred key (PostgreSQL batches): (day, sequence) -> True for every number taken"""
_LISTENING: Final = "hubdesk_ticket_numbers_listening"
_IN_BATCH: Final = "hubdesk_ticket_numbers_in_batch"
_EXPECTED: Final = "hubdesk_ticket_numbers_expected"


def expect(session: Session, count: int) -> None:
    """A bulk batch is about to run `count` messages that may open a ticket: on PostgreSQL,
    where it reserves numbers in blocks, its next block is that large (see the module)."""
    session.info[_EXPECTED] = count


class _Spares:
    """Numbers reserved on PostgreSQL whose tickets rolled back, per engine and day: the
    next new ticket of this process takes the lowest. Kept per engine object (a test's
    database reset comes with a new engine), for as long as the engine lives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: weakref.WeakKeyDictionary[Engine, dict[str, list[int]]] = (
            weakref.WeakKeyDictionary()
        )
        self._last: weakref.WeakKeyDictionary[Engine, dict[str, int]] = weakref.WeakKeyDictionary()
        """The counter's value right after this process's last block, per engine and day."""

    def take(self, engine: Engine, day: str) -> int | None:
        with self._lock:
            numbers = self._by_engine.get(engine, {}).get(day)
            return heapq.heappop(numbers) if numbers else None

    def give(self, engine: Engine, day: str, sequence: int) -> None:
        with self._lock:
            heapq.heappush(self._by_engine.setdefault(engine, {}).setdefault(day, []), sequence)

    def reserved(self, engine: Engine, day: str, first: int, last: int) -> None:
        """A block `first`..`last` was reserved and its first number taken."""
        with self._lock:
            numbers = self._by_engine.setdefault(engine, {}).setdefault(day, [])
            for sequence in range(first + 1, last + 1):
                heapq.heappush(numbers, sequence)
            self._last.setdefault(engine, {})[day] = last

    def take_tails(self, engine: Engine) -> list[tuple[str, int, int]]:
        """Per day, the spare numbers that end this process's last block (first, last),
        taken out (given back to the counter, or to `give` again should that fail)."""
        tails = []
        with self._lock:
            for day, last in self._last.get(engine, {}).items():
                numbers = self._by_engine.get(engine, {}).get(day, [])
                spare = set(numbers)
                first = last
                while first in spare:
                    first -= 1
                if first == last:
                    continue
                kept = [n for n in numbers if n <= first]
                heapq.heapify(kept)
                self._by_engine[engine][day] = kept
                tails.append((day, first + 1, last))
        return tails

    def returned(self, engine: Engine, day: str, first: int, last: int, *, done: bool) -> None:
        """How giving back a tail (`take_tails`) went: the counter now ends at `first` - 1,
        still this process's last number; or another process reserved after it, and the
        numbers are spare here again."""
        with self._lock:
            lasts = self._last.get(engine, {})
            if done:
                lasts[day] = first - 1
                return
            lasts.pop(day, None)
            numbers = self._by_engine.setdefault(engine, {}).setdefault(day, [])
            for sequence in range(first, last + 1):
                heapq.heappush(numbers, sequence)


_SPARES: Final = _Spares()


def _take(session: Session, day: str) -> int:
    session.connection()  # the batch's transaction has begun, so its rollback is seen
    engine = session.get_bind().engine
    wanted = max(1, session.info.get(_EXPECTED, 1))
    session.info[_EXPECTED] = wanted - 1
    sequence = _SPARES.take(engine, day)
    if sequence is None:
        if session.info.get(_IN_BATCH):  # the batch holds the counter row itself now
            return _in_batch(session, day)
        try:
            last = _reserve_on_its_own(engine, day, wanted)
        except OperationalError as exc:
            if not quick.lock_wait_timed_out(exc):
                raise
            # held for long by a transaction that may wait for this batch (`db.quick`):
            # from now on the batch takes its numbers in its own transaction
            session.info[_IN_BATCH] = True
            return _in_batch(session, day)
        sequence = last - wanted + 1
        _SPARES.reserved(engine, day, sequence, last)
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_soft_rollback", _give_back_all)
        event.listen(session, "after_transaction_end", _return_unused)
    deferred.put(session, _TAKEN, (day, sequence), True, _nothing, undo=_giver(engine))
    return sequence


def _in_batch(session: Session, day: str) -> int:
    """A number taken in the batch's transaction (rolled back with it, so not tracked)."""
    return int(session.execute(_NEXT_SQL, {"day": day}).scalar_one())


def _reserve_on_its_own(engine: Engine, day: str, count: int) -> int:
    """Reserve `count` numbers; returns the last (the counter row is locked for this
    statement only, `db.quick`)."""
    ((last,),) = quick.rows(engine, _RESERVE_SQL, {"day": day, "count": count})
    return int(last)


def _return_unused(session: Session, ended: SessionTransaction) -> None:
    """After a PostgreSQL batch's transaction (not a savepoint) ended: the unused end of
    this process's last block goes back to the counter, unless another process reserved
    after it (then the numbers stay spare here, for this process's next tickets)."""
    if ended.parent is not None:
        return
    engine = session.get_bind().engine
    tails = _SPARES.take_tails(engine)
    if not tails:
        return
    for day, first, last in tails:
        try:
            done = quick.count(engine, _RETURN_SQL, {"day": day, "first": first, "last": last})
        except Exception as exc:  # the batch has ended: the numbers just stay spare
            log.warning("could not give unused ticket numbers back to the counter: %s", exc)
            done = 0
        _SPARES.returned(engine, day, first, last, done=bool(done))


def _giver(engine: Engine) -> deferred.Undo:
    def give_back(key: Hashable, _value: object) -> None:
        day, sequence = cast(tuple[str, int], key)
        _SPARES.give(engine, day, sequence)

    return give_back


def _give_back_all(session: Session, ended: SessionTransaction) -> None:
    """The batch's transaction rolled back (not a savepoint: `deferred.rollback_to` gives
    back a message's numbers): every number it still held is spare."""
    if ended.parent is not None:
        return
    engine = session.get_bind().engine
    for key in deferred.kept(session, _TAKEN):
        day, sequence = cast(tuple[str, int], key)
        _SPARES.give(engine, day, sequence)
    deferred.drop(session, _TAKEN)


def _nothing(_session: Session, _values: Mapping[Hashable, object]) -> None:
    """The numbers were written when reserved; the batch's commit makes them used."""


def is_ticket_number(value: str) -> bool:
    return FULL_PATTERN.match(value) is not None
