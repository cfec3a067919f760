"""`intake.ticket_locks`: which tickets a batch's mail names, and locking them before the
batch reads them (without waiting, the rows naming a ticket another transaction holds are
handed back). The two-worker races these locks settle are in
`tests/integration/channels/test_claim.py`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from hubdesk.intake import pipeline, ticket_locks
from hubdesk.mail.limits import MailLimits
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.support.mail import raw_mail


def _open(runtime: Runtime, name: str) -> tuple[int, str]:
    outcome = pipeline.ingest(
        runtime, raw_mail(subject=name, message_id=f"<{name}@x>"), source="test"
    )
    assert outcome.ticket_id is not None
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket is not None
        return ticket.id, ticket.ticket_number


def _mail(**fields: Any) -> ParsedEmail:
    parsed = parse_email(raw_mail(**fields), MailLimits())
    assert isinstance(parsed, ParsedEmail)
    return parsed


def test_each_row_names_the_tickets_of_its_ids_and_subject_numbers(runtime: Runtime) -> None:
    (first, _n1), (second, number), (third, _n3) = (
        _open(runtime, name) for name in ("one", "two", "three")
    )
    mails = {
        1: _mail(subject="Re: one", in_reply_to="<one@x>"),
        2: _mail(subject=f"Re: [{number}] two", references=["<unknown@x>", "<three@x>"]),
        3: _mail(subject="Re: [TKT-20991231-999] nothing", in_reply_to="<nobody@x>"),
        4: _mail(subject="new"),
    }
    with runtime.db.transaction(write=False) as session:
        named = ticket_locks.named_tickets(session, mails)
    assert named == {1: {first}, 2: {second, third}}


def test_without_waiting_the_rows_naming_a_held_ticket_or_its_merge_target_are_handed_back(
    runtime: Runtime, db_kind: str
) -> None:
    """Another transaction holds the ticket `merged` was merged into: the row naming `merged`
    is handed back, the row naming a free ticket is not (and its ticket is now locked).
    SQLite has no row locks (its one writer at a time is the lock): nothing is handed back."""
    free, _ = _open(runtime, "free")
    merged, _ = _open(runtime, "merged")
    target, _ = _open(runtime, "target")
    with runtime.db.transaction() as session:
        session.execute(update(Ticket).where(Ticket.id == merged).values(merged_into_id=target))
    with runtime.db.transaction(write=db_kind == "postgresql") as other:
        other.execute(select(Ticket.id).where(Ticket.id == target).with_for_update())
        with runtime.db.transaction() as session:
            busy = ticket_locks.lock(session, {10: {free}, 11: {merged}}, wait=False)
        assert busy == ({11} if db_kind == "postgresql" else set())
