"""Writing audit rows. Every service write calls `record` in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import CTE, bindparam, insert, literal, null, select
from sqlalchemy.orm import Session

from hubdesk.audit.models import AuditEntry
from hubdesk.auth import Principal
from hubdesk.db import deferred
from hubdesk.db.paging import Page, paginate
from hubdesk.db.types import utcnow

_PLAIN: Final = frozenset({str, int, float, bool})


def jsonable(value: Any) -> Any:
    """A value as it should appear in the audit's JSON `changes`."""
    if value is None or type(value) in _PLAIN:  # most values: no conversion to look for
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for every field whose value differs."""
    return {
        key: [jsonable(before.get(key)), jsonable(value)]
        for key, value in after.items()
        if jsonable(before.get(key)) != jsonable(value)
    }


def created(fields: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The changes of a newly created entity: every field from None."""
    return {key: [None, jsonable(value)] for key, value in fields.items()}


def record(
    session: Session,
    actor: Principal,
    *,
    entity_type: str,
    entity_id: int | None,
    action: str,
    changes: Mapping[str, Any] | None = None,
    ticket_id: int | None = None,
) -> None:
    """Add an audit row to the session's transaction (in a bulk batch it is kept and
    written with the batch's other audit rows in one statement before the commit)."""
    fields = _fields(actor, entity_type, entity_id, action, changes, ticket_id)
    if not deferred.insert_row(session, AuditEntry, {**fields, "created_at": utcnow()}):
        session.add(AuditEntry(**fields))


def _fields(
    actor: Principal,
    entity_type: str,
    entity_id: int | None,
    action: str,
    changes: Mapping[str, Any] | None,
    ticket_id: int | None,
) -> dict[str, Any]:
    return {
        "actor_user_id": actor.user_id,
        "actor": actor.actor,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "ticket_id": ticket_id,
        "action": action,
        "changes": jsonable(dict(changes or {})),
    }


def recorded_with(made: CTE, *, entity_type: str, action: str) -> CTE:
    """The audit row of each row a data-modifying CTE `made` returns (its `id` the entity's
    id), as a CTE of the same statement: one statement writes the rows and their audit
    (PostgreSQL; `customers.service` makes a bulk batch's new contact so). The statement is
    built once; each execution binds `recorded_params`."""
    table = AuditEntry.__table__
    columns = {
        "actor_user_id": bindparam("audit_actor_user_id", type_=table.c.actor_user_id.type),
        "actor": bindparam("audit_actor", type_=table.c.actor.type),
        "entity_type": literal(entity_type, type_=table.c.entity_type.type),
        "entity_id": made.c.id,
        "ticket_id": null(),
        "action": literal(action, type_=table.c.action.type),
        "changes": bindparam("audit_changes", type_=table.c.changes.type),
        "created_at": bindparam("audit_created_at", type_=table.c.created_at.type),
    }
    rows = select(*columns.values())
    return insert(AuditEntry).from_select(list(columns), rows).cte(f"audit_{made.name}")


def recorded_params(actor: Principal, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The values a `recorded_with` statement binds for one audit row."""
    return {
        "audit_actor_user_id": actor.user_id,
        "audit_actor": actor.actor,
        "audit_changes": jsonable(dict(changes)),
        "audit_created_at": utcnow(),
    }


def list_for_ticket(session: Session, ticket_id: int, *, limit: int, offset: int) -> Page[Any]:
    statement = (
        select(AuditEntry)
        .where(AuditEntry.ticket_id == ticket_id)
        .order_by(AuditEntry.created_at, AuditEntry.id)
    )
    return paginate(session, statement, limit=limit, offset=offset)
