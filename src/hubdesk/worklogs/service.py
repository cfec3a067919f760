"""Worklogs: time on a ticket, billed to nothing, to an invoice reference, or to a card."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db.paging import Page, paginate
from hubdesk.errors import NotFound, ValidationFailed
from hubdesk.prepaid import service as prepaid
from hubdesk.prepaid.models import PrepaidCard
from hubdesk.text import multi_line, single_line
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import TICKETS_EDIT, WORKLOGS_CREATE, Principal
from hubdesk.worklogs.models import BILLING_METHODS, Worklog

MAX_MINUTES: Final = 24 * 60


@dataclass(frozen=True)
class NewWorklog:
    minutes: int
    work_date: date | None = None
    description: str = ""
    billable: bool = True
    billing: str = "none"
    invoice_reference: str | None = None
    prepaid_card_id: int | None = None


def create_worklog(
    session: Session, actor: Principal, ticket: Ticket, new: NewWorklog, *, today: date
) -> Worklog:
    actor.require(WORKLOGS_CREATE)
    if not 0 < new.minutes <= MAX_MINUTES:
        raise ValidationFailed(f"minutes must be between 1 and {MAX_MINUTES}")
    if new.billing not in BILLING_METHODS:
        raise ValidationFailed(f"billing must be one of {', '.join(BILLING_METHODS)}")
    reference = single_line(new.invoice_reference or "", 200) or None
    if new.billing == "invoice" and not reference:
        raise ValidationFailed("billing 'invoice' needs an invoice_reference")
    card = _card_for(session, ticket, new)
    worklog = Worklog(
        ticket_id=ticket.id,
        user_id=actor.user_id,
        work_date=new.work_date or today,
        minutes=new.minutes,
        description=multi_line(new.description),
        billable=new.billable,
        billing=new.billing,
        invoice_reference=reference if new.billing == "invoice" else None,
        prepaid_card_id=card.id if card else None,
    )
    session.add(worklog)
    session.flush()
    if card is not None:
        prepaid.draw(session, card, worklog.id, new.minutes, today=today)
    audit.record(
        session,
        actor,
        entity_type="worklog",
        entity_id=worklog.id,
        ticket_id=ticket.id,
        action="created",
        changes=audit.created(
            {
                "minutes": worklog.minutes,
                "work_date": worklog.work_date,
                "billing": worklog.billing,
                "invoice_reference": worklog.invoice_reference,
                "prepaid_card_id": worklog.prepaid_card_id,
            }
        ),
    )
    return worklog


def _card_for(session: Session, ticket: Ticket, new: NewWorklog) -> PrepaidCard | None:
    if new.billing != "prepaid":
        if new.prepaid_card_id is not None:
            raise ValidationFailed("prepaid_card_id is only used with billing 'prepaid'")
        return None
    if new.prepaid_card_id is None:
        raise ValidationFailed("billing 'prepaid' needs a prepaid_card_id")
    # Lock the card before the worklog row exists: inserting the worklog takes a KEY SHARE
    # lock on the card (its foreign key), and two transactions that each hold one and then
    # ask for FOR UPDATE in `prepaid.draw` deadlock on PostgreSQL.
    card = session.get(PrepaidCard, new.prepaid_card_id, with_for_update=True)
    if card is None:
        raise ValidationFailed(f"prepaid card {new.prepaid_card_id} does not exist")
    if ticket.customer_id != card.customer_id:
        raise ValidationFailed(
            f"prepaid card {card.id} belongs to another customer than the ticket's"
        )
    return card


def delete_worklog(session: Session, actor: Principal, worklog: Worklog, *, today: date) -> None:
    """Remove a worklog; a prepaid draw-down is returned to its card by the database."""
    actor.require(TICKETS_EDIT)
    card_id = worklog.prepaid_card_id
    audit.record(
        session,
        actor,
        entity_type="worklog",
        entity_id=worklog.id,
        ticket_id=worklog.ticket_id,
        action="deleted",
        changes={"minutes": [worklog.minutes, None], "prepaid_card_id": [card_id, None]},
    )
    session.delete(worklog)
    session.flush()
    if card_id is not None:
        card = session.get(PrepaidCard, card_id)
        if card is not None:
            session.refresh(card)
            if card.status == "depleted" and card.minutes_remaining > 0:
                card.status = "active"
            prepaid.refresh_status(card, today)


def get_worklog(session: Session, ticket: Ticket, worklog_id: int) -> Worklog:
    worklog = session.get(Worklog, worklog_id)
    if worklog is None or worklog.ticket_id != ticket.id:
        raise NotFound(f"worklog {worklog_id} not found on ticket {ticket.ticket_number}")
    return worklog


def list_worklogs(session: Session, ticket: Ticket, *, limit: int, offset: int) -> Page[Any]:
    statement = (
        select(Worklog)
        .where(Worklog.ticket_id == ticket.id)
        .order_by(Worklog.work_date, Worklog.id)
    )
    return paginate(session, statement, limit=limit, offset=offset)


def totals(session: Session, *conditions: Any) -> dict[str, int]:
    """Total, billable and prepaid minutes of the worklogs matching `conditions`."""
    row = session.execute(
        select(
            func.coalesce(func.sum(Worklog.minutes), 0),
            func.coalesce(func.sum(Worklog.minutes).filter(Worklog.billable.is_(True)), 0),
            func.coalesce(func.sum(Worklog.minutes).filter(Worklog.billing == "prepaid"), 0),
            func.count(Worklog.id),
        )
        .select_from(Worklog)
        .join(Ticket, Ticket.id == Worklog.ticket_id)
        .where(*conditions)
    ).one()
    return {
        "total_minutes": int(row[0]),
        "billable_minutes": int(row[1]),
        "prepaid_minutes": int(row[2]),
        "count": int(row[3]),
    }
