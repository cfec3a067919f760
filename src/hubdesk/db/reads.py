"""Reads that flush only what they read.

A query autoflushes every pending write of the session first, so that it sees them. On the
bulk path (`hubdesk.intake.bulk`, one session for a whole batch) the reads at the start of a
message (the threading look-up, the new-ticket throttle) would each flush the previous
message's unrelated rows (its ledger row's fate, an SLA clock, a participant) in a flush of
their own: 1.6 of the 2.3 ORM flushes an email cost in `bench/statements.py` were these.
`touching` flushes only when a pending write is to one of the tables a statement reads (or
inserts into), and otherwise leaves the writes for the session's next flush, which then
writes them together.

Where a bulk batch's new rows stay pending across messages (their ids come from
`hubdesk.db.ids`, so nothing flushes to learn them), a read narrows further with `where`: a
test on the pending object (new, changed or deleted) that says whether the statement could
see it. The test must only look at columns a pending change cannot move (an email log's
Message-ID, a ticket's number or id), since the database still holds the old values of a
changed row. `get` is `Session.get` that answers a pending new object with that primary
key itself, and flushes only for one whose key is not known yet. `track_pending` keeps a
session's new objects by class, so that these tests do not walk every pending object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import Any, Final, TypeVar, cast

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

_PENDING: Final = "hubdesk_pending"
_MADE: Final = "hubdesk_made"
_LISTENERS: Final = "hubdesk_pending_listeners"

T = TypeVar("T")


@contextlib.contextmanager
def touching(
    session: Session,
    *models: type,
    where: Callable[[Any], bool] | None = None,
    new_in_memory: bool = False,
) -> Iterator[Session]:
    """For statements on the tables of `models` alone: flush first if a pending new, changed
    or deleted object is one of `models` (and `where` says the statements could see it),
    then run them without an autoflush. With `new_in_memory` the caller answers for the
    new objects itself (`pending_of`), and only changed or deleted ones are flushed."""
    pending = chain(
        () if new_in_memory else _new_of(session, models),
        (obj for obj in chain(session.dirty, session.deleted) if isinstance(obj, models)),
    )
    if any(where is None or where(obj) for obj in pending):
        session.flush()
    with session.no_autoflush:
        yield session


def get(session: Session, model: type[T], key: Any) -> T | None:
    """`session.get(model, key)` without flushing the batch: a new object of `model` with
    that primary key, still pending, is the answer (it is what a flush and then `get` would
    give); a pending one whose key is not known yet is flushed first."""
    wanted = tuple(key) if isinstance(key, tuple | list) else (key,)
    mapper, names = _keys_of(model)
    identity = mapper.identity_key_from_primary_key(wanted)
    loaded = session.identity_map.get(identity)
    if loaded is not None:
        if type(loaded) is model and not instance_state(loaded).expired:
            # what `session.get` answers for it, at a sixth of the cost (a batch asks often)
            return loaded
        with session.no_autoflush:  # an expired one is read again
            return session.get(model, key)
    unknown = False
    for obj in _new_of(session, (model,)):
        # the attributes themselves: a pending object's key as the mapper would read it
        # (`primary_key_from_instance`), at a tenth of the cost (a batch asks often)
        values = obj.__dict__
        found = tuple(values.get(name) for name in names)
        if found == wanted:
            return cast(T, obj)
        unknown = unknown or None in found
    if unknown:
        session.flush()
    with session.no_autoflush:
        return session.get(model, key)


_KEYS: Final[dict[type, tuple[Any, tuple[str, ...]]]] = {}


def _keys_of(model: type) -> tuple[Any, tuple[str, ...]]:
    """`model`'s mapper and the names of its primary key's attributes."""
    known = _KEYS.get(model)
    if known is None:
        mapper: Any = inspect(model)
        names = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
        known = _KEYS[model] = (mapper, names)
    return known


def track_pending(session: Session) -> None:
    """Keep `session`'s new objects by class until they are flushed or dropped (the bulk
    path's batch sessions, whose new rows stay pending across messages), and apart, every
    new object of the session until it is dropped (`made_of`)."""
    index: dict[type, dict[int, object]] = {}
    made: dict[type, dict[int, object]] = {}
    session.info[_PENDING] = index
    session.info[_MADE] = made

    def added(_session: Session, obj: object) -> None:
        index.setdefault(type(obj), {})[id(obj)] = obj
        made.setdefault(type(obj), {})[id(obj)] = obj

    def flushed(_session: Session, obj: object) -> None:
        index.get(type(obj), {}).pop(id(obj), None)

    def dropped(_session: Session, obj: object) -> None:  # rolled back, expunged
        index.get(type(obj), {}).pop(id(obj), None)
        made.get(type(obj), {}).pop(id(obj), None)

    listeners = (
        ("transient_to_pending", added),
        ("pending_to_persistent", flushed),
        ("pending_to_transient", dropped),
        ("persistent_to_transient", dropped),
        ("persistent_to_detached", dropped),
    )
    for name, listener in listeners:
        event.listen(session, name, listener)
    session.info[_LISTENERS] = listeners


def untrack(session: Session) -> None:
    """Stop what `track_pending` keeps, for a session whose work is done (a bulk batch about
    to commit): closing it detaches every object it holds, and each detached object would
    call `dropped` to update an index nothing reads again (1 % of a bulk batch with the
    events' own dispatch, py-spy, 2026-12-06)."""
    for name, listener in session.info.pop(_LISTENERS, ()):
        event.remove(session, name, listener)
    session.info.pop(_PENDING, None)
    session.info.pop(_MADE, None)


def made_of(session: Session, model: type[T]) -> Iterable[T] | None:
    """The objects of `model` that `session` made (pending or written) and still holds,
    in the order added; None when the session does not track them (`track_pending`)."""
    made: dict[type, dict[int, object]] | None = session.info.get(_MADE)
    if made is None:
        return None
    return cast(Iterable[T], list(made.get(model, {}).values()))


def made_mark(session: Session, model: type) -> frozenset[int] | None:
    """The ids of the `model` objects `session` has made so far, to tell later ones apart
    (`made_since`); None when the session does not track them."""
    made: Iterable[Any] | None = made_of(session, model)
    return None if made is None else frozenset(obj.id for obj in made)


def made_since(session: Session, model: type[T], mark: frozenset[int] | None) -> list[T] | None:
    """The `model` objects `session` made after `mark` (`made_mark`) and still holds, in the
    order made; None when that cannot be told: not tracked, no mark, or an object without
    its id yet (a session that numbers rows ahead, `db.ids`, gives each one at once)."""
    made = made_of(session, model)
    if made is None or mark is None:
        return None
    since = []
    for obj in made:
        key = obj.id  # type: ignore[attr-defined]
        if key is None:
            return None
        if key not in mark:
            since.append(obj)
    return since


def pending_of(session: Session, model: type[T]) -> Iterable[T]:
    """The new objects of `model` the session has not flushed yet, in the order added."""
    return cast(Iterable[T], _new_of(session, (model,)))


def _new_of(session: Session, models: Sequence[type]) -> Iterable[object]:
    index: dict[type, dict[int, object]] | None = session.info.get(_PENDING)
    if index is None:
        return (obj for obj in session.new if isinstance(obj, tuple(models)))
    return chain.from_iterable(list(index.get(model, {}).values()) for model in models)
