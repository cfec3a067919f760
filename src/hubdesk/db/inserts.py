"""New rows written with one executemany a table, beside the unit of work.

A bulk batch (`hubdesk.intake.bulk`) makes a chunk's worth of new contacts, tickets and
their tags, email-log rows, comments, SLA clocks and participants, each with its key already
(`db.ids`), and writes them with its next flush. The ORM's unit of work sorts, checks and
books each of them one by one around its executemany: the flush of a chunk's rows was 27 %
of the ingesting process, a third of it SQLite's own work; written this way, 12 % (py-spy,
`bench.bulk_cpu --count 4000`; `bench/README.md`, "Issue 9, 2026-12-06").

In a session where `enable` was called, `flush` writes the new objects of the given models
with one Core executemany a table and hands the rest to the ORM's flush:

- a table that the ORM's rows refer to (a new contact, before its ticket) is written
  before the ORM's flush, and one that refers to them (a comment, after its new ticket)
  after it; a table that both refers to the ORM's rows and is referred to by them is left
  to the ORM, as is every table that refers to a table left to it;
- each object's row is taken from its attributes; a column it was not given takes the
  column's Python default (put into the object too, as the ORM's INSERT does), a version
  counter its first value, and a computed column is left out and read when asked (as the
  ORM leaves it: `eager_defaults=False`); the keys of an object set on a relationship are
  copied along it, as the ORM's flush copies them;
- the written objects are then registered as the ORM's flush registers what it inserted
  (`Session._register_persistent`: the identity map, the transaction's list of new objects
  that a rollback expunges, the `pending_to_persistent` event), so nothing reads them
  again and a rollback forgets them as it forgets the ORM's. The ones written before the
  ORM's flush are registered before it, so that a changed row naming them can be written
  set-wise too (`db.updates`).

`enable` refuses, by name, a model with a column only the database fills in (a server
default without a Python one), with insert events other than `db.ids`'s, or with a
many-to-many relationship. A new row's primary key must be known before the INSERT
(`db.ids` numbers one at once; a natural key is given). `Session._new` and
`Session._register_persistent` are SQLAlchemy's own (2.0 and 2.1): inside a savepoint, and
where the SQLAlchemy in use lacks them, `flush` is the ORM's flush.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Table, inspect
from sqlalchemy.orm import ONETOMANY, Session
from sqlalchemy.orm.attributes import instance_state

from hubdesk.db import ids, many, reads

_KEY: Final = "hubdesk_inserts"
_SUPPORTED: Final = hasattr(Session, "_register_persistent")
"""What `flush` relies on from SQLAlchemy's session (2.0 and 2.1 have it)."""

_NO_DEFAULT: Final = object()


@dataclass(frozen=True)
class _Column:
    attribute: str
    key: str
    default: Callable[[], Any] | None
    """The column's Python default (None: NULL)."""


@dataclass(frozen=True)
class _Model:
    model: type
    table: Table
    columns: tuple[_Column, ...]
    keys: tuple[str, ...]
    """The primary key's attributes, each given before the INSERT."""
    numbered: bool
    """Whether `db.ids` numbers its new rows (one without its id yet takes it here)."""
    computed: tuple[str, ...]
    """Columns the database computes: left out of the INSERT, read when asked."""
    relations: tuple[tuple[str, bool, tuple[tuple[str, str], ...]], ...]
    """(relationship, one-to-many, (source attribute, foreign-key attribute) pairs): the
    keys a related object set on the relationship gives, as the ORM's flush copies them."""

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)


_MODELS: Final[dict[type, _Model]] = {}


def enable(session: Session, *models: type) -> None:
    """Write the new objects of `models` in `session` this way from now on (the caller's
    transaction); the session must track its new objects (`reads.track_pending`)."""
    session.info[_KEY] = tuple(_model(model) for model in models)


def writes(session: Session, model: type) -> bool:
    """Whether `session`'s next `flush` writes new objects of `model` set-wise (`enable`)."""
    models: tuple[_Model, ...] | None = session.info.get(_KEY)
    return _SUPPORTED and models is not None and any(m.model is model for m in models)


def flush(session: Session) -> None:
    """`session.flush()`, with the new objects of the enabled models written set-wise."""
    models: tuple[_Model, ...] | None = session.info.get(_KEY)
    if models is None or not _SUPPORTED or session.in_nested_transaction():
        session.flush()
        return
    waiting: dict[_Model, list[Any]] = {}
    for m in models:
        objs: list[Any] = list(reads.pending_of(session, m.model))
        if objs:
            waiting[m] = objs
    if not waiting:
        session.flush()
        return
    before, after = _order(session, waiting)
    first = _hide(session, [obj for m in before for obj in waiting[m]])
    then = _hide(session, [obj for m in after for obj in waiting[m]])
    try:
        for m in before:
            _write(session, m, waiting[m])
        # written: persistent before the ORM's flush, whose changed rows may refer to them
        _register(session, first, before, waiting)
        session.flush()
        for m in after:
            _write(session, m, waiting[m])
    except BaseException:
        _unhide(session, first)
        _unhide(session, then)
        raise
    _register(session, then, after, waiting)


def _hide(session: Session, objs: list[Any]) -> dict[Any, Any]:
    """Take `objs` out of the session's new objects, where the ORM's flush would find them."""
    new: dict[Any, object] = session._new  # private: see the module
    hidden = {}
    for obj in objs:
        state = instance_state(obj)
        del new[state]
        hidden[state] = obj
    return hidden


def _unhide(session: Session, hidden: dict[Any, Any]) -> None:
    """Put back what `_hide` took and is not registered yet (a write or the flush failed)."""
    session._new.update(hidden)  # private: see the module
    hidden.clear()


def _register(
    session: Session, hidden: dict[Any, Any], models: list[_Model], waiting: dict[_Model, list[Any]]
) -> None:
    """The written objects as the ORM's flush leaves what it INSERTed: persistent."""
    states = set(hidden)
    _unhide(session, hidden)
    session._register_persistent(states)  # private: see the module
    for m in models:
        if m.computed:
            for obj in waiting[m]:
                session.expire(obj, m.computed)


def _order(session: Session, waiting: dict[_Model, list[Any]]) -> tuple[list[_Model], list[_Model]]:
    """The enabled models to write before and after the ORM's flush, each list in the order
    of the tables' foreign keys; the ones that must go with the ORM are left out (and stay
    pending for it)."""
    theirs = {  # what the ORM's flush writes: the other new rows, and every changed one
        type(obj).__table__
        for obj in session.new
        if not any(isinstance(obj, m.model) for m in waiting)
    }
    theirs.update(type(obj).__table__ for obj in session.dirty)
    ours = {m.table: m for m in waiting}
    while True:
        after = {t for t in ours if _refers_to(t, theirs)}
        left = {t for t in after if any(_refers_to(o, {t}) for o in theirs)}
        if not left:
            break
        for table in left:  # both sides of the ORM's rows: the ORM orders it
            theirs.add(table)
            del ours[table]
    order = _sorted(ours)
    before = [ours[t] for t in order if t not in after]
    return before, [ours[t] for t in order if t in after]


def _refers_to(table: Table, others: Iterable[Table]) -> bool:
    """Whether a row of `table` may refer to one of `others` (directly or through a chain of
    foreign keys)."""
    targets = set(others)
    return bool(targets & _referred(table))


_REFERRED: Final[dict[Table, frozenset[Table]]] = {}


def _referred(table: Table) -> frozenset[Table]:
    """Every table a row of `table` refers to, through any chain of foreign keys."""
    found = _REFERRED.get(table)
    if found is None:
        seen: set[Table] = set()
        stack = [table]
        while stack:
            for fk in stack.pop().foreign_keys:
                target = fk.column.table
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        found = _REFERRED[table] = frozenset(seen - {table})
    return found


def _sorted(tables: dict[Table, _Model]) -> list[Table]:
    """`tables` so that each comes after the ones it refers to."""
    left = dict.fromkeys(sorted(tables, key=lambda t: t.name))
    order: list[Table] = []
    while left:
        ready = [t for t in left if not (_referred(t) & left.keys())]
        order.extend(ready)
        for table in ready:
            del left[table]
    return order


def _write(session: Session, model: _Model, objs: list[Any]) -> None:
    # on the session's connection: `session.execute` would autoflush the ORM's rows first
    connection = session.connection()
    rows: list[list[Any]] = []
    for obj in objs:
        if model.numbered:
            ids.assign(session, obj)
        values = obj.__dict__
        for key, to_many, pairs in model.relations:
            if key in values:
                _copy_keys(obj, values[key], to_many, pairs)
        row = []
        for column in model.columns:
            value = values.get(column.attribute, _NO_DEFAULT)
            if value is _NO_DEFAULT:
                value = None if column.default is None else column.default()
                values[column.attribute] = value
            row.append(value)
        for key in model.keys:
            if values.get(key) is None:
                raise ValueError(f"a new {model.model.__name__} has no {key} before its INSERT")
        rows.append(row)
    many.insert_many(connection, model.table, model.column_keys, rows)


def _copy_keys(obj: Any, related: Any, to_many: bool, pairs: tuple[tuple[str, str], ...]) -> None:
    """What the ORM's flush copies along a relationship set on the new `obj`: its key into
    each child's foreign key (one-to-many), or the parent's key into its own (many-to-one)."""
    if related is None:
        return
    if not to_many:
        for source, dest in pairs:
            obj.__dict__[dest] = related.__dict__.get(source)
        return
    for child in related if isinstance(related, list) else (related,):
        for source, dest in pairs:
            if getattr(child, dest) != obj.__dict__.get(source):
                setattr(child, dest, obj.__dict__.get(source))


def _model(model: type) -> _Model:
    known = _MODELS.get(model)
    if known is not None:
        return known
    mapper: Any = inspect(model)
    name = model.__name__
    if len(mapper.dispatch.before_insert) > int(ids.registered(model)) or len(
        mapper.dispatch.after_insert
    ):
        raise ValueError(f"{name} has insert events: the ORM writes it")
    table: Table = mapper.local_table
    columns = []
    computed = []
    for prop in mapper.column_attrs:
        (column,) = prop.columns
        if column.table is not table:
            raise ValueError(f"{name}.{prop.key} is not a column of {table.name}")
        if column.computed is not None:  # left out, and read when asked, as the ORM does
            computed.append(prop.key)
            continue
        columns.append(_Column(prop.key, column.key, _default(mapper, column, name, prop.key)))
    relations = []
    for rel in mapper.relationships:
        if rel.secondary is not None:
            raise ValueError(f"{name}.{rel.key} is many-to-many: the ORM writes it")
        pairs = tuple(
            (
                rel.parent.get_property_by_column(source).key,
                rel.mapper.get_property_by_column(dest).key,
            )
            if rel.direction is ONETOMANY
            else (
                rel.mapper.get_property_by_column(source).key,
                mapper.get_property_by_column(dest).key,
            )
            for source, dest in rel.synchronize_pairs
        )
        relations.append((rel.key, rel.direction is ONETOMANY, pairs))
    keys = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
    found = _MODELS[model] = _Model(
        model,
        table,
        tuple(columns),
        keys,
        ids.registered(model),
        tuple(computed),
        tuple(relations),
    )
    return found


def _default(mapper: Any, column: Any, name: str, key: str) -> Callable[[], Any] | None:
    """What the INSERT writes for `column` when the object was not given a value."""
    if column is mapper.version_id_col:
        if mapper.version_id_generator is False:
            raise ValueError(f"{name} counts its versions itself: the ORM writes it")
        generator = mapper.version_id_generator
        return lambda: generator(None)  # the first version, as the ORM's INSERT writes it
    default = column.default
    if default is None:
        if column.server_default is not None:
            raise ValueError(f"{name}.{key} is written by the database: the ORM writes it")
        return None
    if default.is_scalar:
        return _constant(default.arg)
    if default.is_callable:
        return _called(default.arg)
    raise ValueError(f"{name}.{key} has a default the ORM computes")


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _called(function: Callable[[Any], Any]) -> Callable[[], Any]:
    # SQLAlchemy wraps a default that takes no argument into one that takes the execution
    # context: none of these defaults reads it
    return lambda: function(None)
