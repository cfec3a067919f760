"""Links between tickets (`tticket_ticket_links`), stored once from each side: the tickets one
email to several teams' mailboxes opened (`same_email`), and a ticket and the one messages
were split off into (`split`). Writes in the caller's transaction; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hubdesk.db.types import utcnow
from hubdesk.tickets.models import Ticket, TicketLink

KINDS: Final = ("same_email", "split")


def link(
    session: Session,
    a: Ticket,
    b: Ticket,
    kind: str,
    *,
    inbound_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Link `a` and `b` both ways; False when they were linked already."""
    if kind not in KINDS:
        raise ValueError(f"unknown link kind {kind!r}")
    if a.id == b.id:
        return False
    existing = session.scalar(
        select(TicketLink.kind).where(
            TicketLink.ticket_id == a.id, TicketLink.linked_ticket_id == b.id
        )
    )
    if existing is not None:
        return False
    when = now or utcnow()
    for one, other in ((a, b), (b, a)):
        session.add(
            TicketLink(
                ticket_id=one.id,
                linked_ticket_id=other.id,
                linked_ticket_number=other.ticket_number,
                kind=kind,
                inbound_id=inbound_id,
                created_at=when,
            )
        )
    session.flush()
    return True


def link_all(
    session: Session, tickets: Sequence[Ticket], kind: str, *, inbound_id: int | None = None
) -> None:
    """Link every pair of `tickets`."""
    for i, one in enumerate(tickets):
        for other in tickets[i + 1 :]:
            link(session, one, other, kind, inbound_id=inbound_id)
