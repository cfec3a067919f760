"""New ORM objects built without an event per attribute.

A mapped class's constructor sets each keyword through its instrumented attribute: an
event, a history entry and the `modified` flag, one column at a time (20 µs for an email-log
row's 18 columns; 1.1 µs this way, `timeit`, 2026-12-05). A new object needs none of it:
the INSERT takes its columns from the object's dictionary, and there is no loaded state to
compare them with. `new` builds the object through its class manager, as the ORM does for
a row it loads, and puts the values in its dictionary. Only column attributes are taken;
a relationship is still set through its attribute afterwards (its events keep both sides
in step). Used where the pipeline makes rows by the mail: the email log, a comment, a new
ticket, its SLA clock and participants (`tests/integration/test_new_rows.py` writes each
both ways and compares the rows).

`add` puts such an object in the session as `Session.add` does, without walking the
mapper's relationships for related objects to add with it (the save-update cascade) when
the object holds none: the walk over each relationship of a new ticket, comment, email-log
row, clock, participant and ledger row found nothing there, and took 3 % of a bulk batch's
time (py-spy, 2026-12-06; 1 % after).
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session, attributes

T = TypeVar("T")

_MODELS: Final[dict[type, tuple[frozenset[str], Any]]] = {}
_CASCADED: Final[dict[Any, tuple[str, ...]]] = {}
"""Mapper -> the relationships `Session.add` follows (save-update cascade)."""


def new(model: type[T], **values: Any) -> T:
    """A transient `model` holding `values` (column attribute names), ready to be added."""
    known = _MODELS.get(model)
    if known is None:
        mapper = inspect(model)
        columns = frozenset(prop.key for prop in mapper.column_attrs)
        known = _MODELS[model] = (columns, mapper.class_manager)
    columns, manager = known
    if not columns.issuperset(values):
        unknown = sorted(set(values) - columns)
        raise TypeError(f"{model.__name__} has no column attribute {', '.join(unknown)}")
    obj: T = manager.new_instance()
    obj.__dict__.update(values)
    return obj


def add(session: Session, obj: object) -> None:
    """`session.add(obj)`, skipping the save-update cascade where `obj` holds no related
    object (no such relationship in its dictionary, or only None or an empty collection):
    the cascade would add nothing then. Otherwise, in a flush event (where `session.add`
    warns), or on a SQLAlchemy without `Session._save_or_update_impl`, it is `session.add`."""
    state = attributes.instance_state(obj)
    mapper = state.mapper
    followed = _CASCADED.get(mapper)
    if followed is None:
        followed = _CASCADED[mapper] = tuple(
            prop.key for prop in mapper.relationships if prop.cascade.save_update
        )
    values = state.dict
    place = getattr(session, "_save_or_update_impl", None)
    if place is None or session._warn_on_events or any(values.get(key) for key in followed):
        session.add(obj)
        return
    state._orphaned_outside_of_session = False
    place(state)
