"""Saved views: list, create, change and delete, with the query checked key by key.

A personal view is its owner's alone. A shared view is listed to everyone who may see
tickets; creating one, or changing or deleting any shared view, needs `views.share`.
The query holds only the ticket list's own keys (`FILTER_KEYS`) with values the list
accepts; an unknown key or a bad value is refused (`ValidationFailed`, a 422) naming it.
Opening a view only fills the list's query: what it shows is still `visible_tickets`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hubdesk.savedviews.models import SavedView
from hubdesk.tickets import queries
from hubdesk.tickets.states import PRIORITIES, STATUSES
from hubdesk.users.permissions import TICKETS_VIEW, VIEWS_SHARE, Principal

FILTER_KEYS: Final = (
    "status",
    "priority",
    "customer",
    "assignee",
    "tag",
    "q",
    "sort",
    "per",
    "sla",
    "team",
)
PAGE_SIZES: Final = (25, 50, 100)
SLA_STATES: Final = ("breached", "warning", "paused")
MAX_NAME: Final = 100


def visible(session: Session, principal: Principal) -> list[SavedView]:
    """The principal's own views and the shared ones, shared first, then by name."""
    principal.require(TICKETS_VIEW)
    rows = session.scalars(
        select(SavedView)
        .where(or_(SavedView.shared.is_(True), SavedView.owner_user_id == principal.user_id))
        .order_by(SavedView.shared.desc(), SavedView.name, SavedView.id)
    )
    return list(rows)


def get(session: Session, principal: Principal, view_id: int) -> SavedView:
    principal.require(TICKETS_VIEW)
    view = session.get(SavedView, view_id)
    if view is None or not (view.shared or view.owner_user_id == principal.user_id):
        raise NotFound(f"saved view {view_id} does not exist")
    return view


def create(
    session: Session, principal: Principal, name: str, query: Mapping[str, Any], shared: bool
) -> SavedView:
    principal.require(TICKETS_VIEW)
    if principal.user_id is None:
        raise ValidationFailed("only a user can own a saved view")
    if shared:
        principal.require(VIEWS_SHARE)
    now = utcnow()
    view = SavedView(
        name=clean_name(name),
        owner_user_id=principal.user_id,
        shared=shared,
        query=clean_query(query),
        created_at=now,
        updated_at=now,
    )
    _unique(session, view)
    try:
        with session.begin_nested():
            session.add(view)
            session.flush()
    except IntegrityError:  # the same name saved at the same moment (a double click)
        if view in session:
            session.expunge(view)
        raise _taken(view.name) from None
    _audit(session, principal, view, "saved_view_created", {"name": [None, view.name]})
    return view


def update(
    session: Session, principal: Principal, view: SavedView, changes: Mapping[str, Any]
) -> SavedView:
    """`changes`: any of name, query, shared."""
    _require_edit(principal, view)
    if changes.get("shared") and not view.shared:
        principal.require(VIEWS_SHARE)
    before = {"name": view.name, "shared": view.shared, "query": dict(view.query)}
    if "name" in changes:
        view.name = clean_name(changes["name"])
    if "query" in changes:
        view.query = clean_query(changes["query"] or {})
    if "shared" in changes and changes["shared"] is not None:
        view.shared = bool(changes["shared"])
    view.updated_at = utcnow()
    _unique(session, view)
    session.flush()
    after = {"name": view.name, "shared": view.shared, "query": dict(view.query)}
    diff = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    _audit(session, principal, view, "saved_view_changed", diff)
    return view


def delete(session: Session, principal: Principal, view: SavedView) -> None:
    _require_edit(principal, view)
    _audit(session, principal, view, "saved_view_deleted", {"name": [view.name, None]})
    session.delete(view)
    session.flush()


def may_edit(principal: Principal, view: SavedView) -> bool:
    if view.shared:
        return principal.can(VIEWS_SHARE)
    return view.owner_user_id == principal.user_id


def _require_edit(principal: Principal, view: SavedView) -> None:
    if view.shared:
        principal.require(VIEWS_SHARE)
    elif view.owner_user_id != principal.user_id:
        raise PermissionDenied("views.own")


def clean_name(name: str) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise ValidationFailed("name: give the view a name")
    if len(cleaned) > MAX_NAME:
        raise ValidationFailed(f"name: at most {MAX_NAME} characters")
    return cleaned


def clean_query(query: Mapping[str, Any]) -> dict[str, str]:
    """The query with empty values dropped; unknown keys and bad values refused."""
    unknown = sorted(set(query) - set(FILTER_KEYS))
    if unknown:
        raise ValidationFailed(
            f"query: unknown filter key(s) {', '.join(unknown)}; use {', '.join(FILTER_KEYS)}"
        )
    cleaned: dict[str, str] = {}
    for key in FILTER_KEYS:
        value = query.get(key)
        if value is None:
            continue
        text = str(value).strip()
        if text == "" and key != "status":
            continue
        _check(key, text)
        cleaned[key] = text
    return cleaned


def _check(key: str, value: str) -> None:
    allowed: tuple[str, ...] | None = None
    if key == "status":
        allowed = ("", "active", *STATUSES)
    elif key == "priority":
        allowed = PRIORITIES
    elif key == "sla":
        allowed = SLA_STATES
    elif key == "per":
        allowed = tuple(str(n) for n in PAGE_SIZES)
    if allowed is not None and value not in allowed:
        raise ValidationFailed(f"query.{key}: {value!r} is not one of {', '.join(allowed)}")
    if key == "customer" and not _is_id(value):
        raise ValidationFailed(f"query.customer: {value!r} is not a customer id")
    if key == "assignee" and value not in ("me", "none") and not _is_id(value):
        raise ValidationFailed(f"query.assignee: {value!r} is not a user id, me or none")
    if key == "team" and value != "none" and not _is_id(value):
        raise ValidationFailed(f"query.team: {value!r} is not a team (group) id or none")
    if key == "sort":
        queries.parse_sorts(value)
    if key == "tag" and len(value) > 64:
        raise ValidationFailed("query.tag: at most 64 characters")
    if key == "q" and len(value) > 500:
        raise ValidationFailed("query.q: at most 500 characters")


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and 0 < int(value) < 2**31


def _unique(session: Session, view: SavedView) -> None:
    with session.no_autoflush:
        clash = session.scalar(
            select(SavedView.id).where(
                SavedView.owner_user_id == view.owner_user_id,
                SavedView.name == view.name,
                SavedView.id != (view.id or 0),
            )
        )
    if clash is not None:
        raise _taken(view.name)


def _taken(name: str) -> Conflict:
    return Conflict(f"you already have a saved view called {name!r}")


def _audit(
    session: Session, principal: Principal, view: SavedView, action: str, changes: Any
) -> None:
    audit.record(
        session,
        principal,
        entity_type="saved_view",
        entity_id=view.id,
        action=action,
        changes=changes,
    )
