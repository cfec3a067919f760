"""Making rows through the real services (as the system principal) for tests to act on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hubdesk.customers import service as customers
from hubdesk.customers.models import Contact, Customer
from hubdesk.mailboxes import service as mailboxes
from hubdesk.mailboxes.models import Mailbox, MailboxAddress
from hubdesk.outbox import service as outbox
from hubdesk.outbox.models import AddressFlag, OutboxMessage
from hubdesk.prepaid import service as prepaid
from hubdesk.prepaid.models import PrepaidCard
from hubdesk.priority.models import PriorityKeyword
from hubdesk.runtime import Runtime
from hubdesk.savedviews.models import SavedView
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users import service as users
from hubdesk.users.models import Group, User
from hubdesk.users.permissions import SYSTEM
from hubdesk.workflows import service as workflows
from hubdesk.workflows.catalog import WorkflowIn
from hubdesk.workflows.models import WorkflowExecution
from hubdesk.worklogs import service as worklogs
from hubdesk.worklogs.models import Worklog

TZ = ZoneInfo("Europe/Copenhagen")
TODAY = date(2025, 12, 15)


def customer(session: Session, name: str = "Acme A/S", domains: Sequence[str] = ()) -> Customer:
    return customers.create_customer(session, SYSTEM, name=name, domains=domains)


def contact(session: Session, email: str, customer_id: int | None = None) -> Contact:
    return customers.create_contact(session, SYSTEM, email=email, customer_id=customer_id)


def ticket(
    session: Session,
    subject: str = "Printer on fire",
    *,
    now: datetime | None = None,
    **fields: Any,
) -> Ticket:
    return tickets.create_ticket(
        session, SYSTEM, tickets.NewTicket(subject=subject, **fields), tz=TZ, now=now
    )


def card(
    session: Session, customer_id: int, hours: str = "1", *, today: date = TODAY
) -> PrepaidCard:
    new = prepaid.NewCard(customer_id=customer_id, hours_bought=Decimal(hours))
    return prepaid.create_card(session, SYSTEM, new, today=today)


def worklog(session: Session, on: Ticket, minutes: int, **fields: Any) -> Worklog:
    new = worklogs.NewWorklog(minutes=minutes, **fields)
    return worklogs.create_worklog(session, SYSTEM, on, new, today=TODAY)


def tickets_in_zone(session: Session, tz: ZoneInfo, now: datetime) -> str:
    """The number of a ticket created at `now` by a hubdesk configured for `tz`."""
    new = tickets.NewTicket(subject="Zoned")
    return tickets.create_ticket(session, SYSTEM, new, tz=tz, now=now).ticket_number


def failed_run(
    session: Session, name: str, inbound_id: int | None, steps: list[dict[str, Any]]
) -> WorkflowExecution:
    """A workflow (trigger `invoice`) and one failed run of it on an email."""
    workflow = workflows.create(
        session,
        SYSTEM,
        WorkflowIn(name=name, classification_trigger="invoice", workflow_steps=steps),
    )
    execution = WorkflowExecution(
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        inbound_id=inbound_id,
        classification="invoice",
        confidence=0.9,
        status="failed",
        error=f"a failed run of {name}",
    )
    session.add(execution)
    session.flush()
    return execution


def held_reply(session: Session, runtime: Runtime, on: Ticket, address: str) -> OutboxMessage:
    """A reply to `address`, held because the address is flagged as bouncing."""
    session.add(AddressFlag(email=address, bouncing=True, bounce_count=1))
    session.flush()
    return outbox.enqueue(
        session,
        runtime.settings,
        runtime.secret_key,
        SYSTEM,
        kind="agent_reply",
        ticket=on,
        to=[address],
        subject="Held",
        body="held",
    )


def mailbox(session: Session, name: str, address: str) -> Mailbox:
    row = Mailbox(name=name)
    row.address_rows = [MailboxAddress(address=address)]
    session.add(row)
    session.flush()
    return row


def saved_view(
    session: Session, owner_user_id: int, name: str, shared: bool = False, **query: str
) -> SavedView:
    view = SavedView(name=name, owner_user_id=owner_user_id, shared=shared, query=query)
    session.add(view)
    session.flush()
    return view


def priority_keyword(
    session: Session, word: str, level: str = "high", scope: str = "subject"
) -> PriorityKeyword:
    row = PriorityKeyword(word=word, level=level, language="en", scope=scope)
    session.add(row)
    session.flush()
    return row


def group(session: Session, name: str) -> Group:
    """A group without permissions (groups are seeded by migrations; tests add their own)."""
    made = Group(name=name, description=f"{name} (test)")
    session.add(made)
    session.flush()
    return made


def teams_with_mailboxes(session: Session, names: Sequence[str], domain: str) -> dict[str, int]:
    """A team (group) per name with a mailbox `<name>@<domain>` of that team; ids by name."""
    teams = {name: group(session, name).id for name in names}
    for name in names:
        mailboxes.create_mailbox(
            session,
            SYSTEM,
            name=name.lower(),
            addresses=[f"{name.lower()}@{domain}"],
            team_id=teams[name],
        )
    return teams


def agent(
    session: Session, email: str, *, groups: Sequence[str] = ("agents",), **fields: Any
) -> User:
    """An agent in `groups`; `available`/`active` given in `fields` are set after creation."""
    user = users.create_user(
        session, SYSTEM, email=email, name=email.split("@")[0], password=None, groups=groups
    )
    if fields:
        users.update_user(session, SYSTEM, user, **fields)
    return user


def stored_raw(runtime: Runtime, inbound_id: int) -> bytes:
    """A ledger row's raw bytes, read as hubdesk reads them: from the row itself (a small
    message a batch path kept there) or from the blob store, checked against its sha256."""
    from hubdesk.inbound import service as inbound
    from hubdesk.inbound.models import InboundMessage

    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, inbound_id)
        assert row is not None, f"no ledger row {inbound_id}"
        return inbound.raw_bytes(runtime.blobs, row)


def stored_raws(runtime: Runtime) -> dict[str, bytes]:
    """Every ledger row's raw bytes by their sha256 (purged rows left out), read as
    `stored_raw` reads them."""
    from sqlalchemy import select

    from hubdesk.inbound import service as inbound
    from hubdesk.inbound.models import InboundMessage

    with runtime.db.transaction(write=False) as session:
        rows = session.scalars(select(InboundMessage).where(InboundMessage.raw_purged_at.is_(None)))
        return {row.raw_sha256: inbound.raw_bytes(runtime.blobs, row) for row in rows}
