"""A small, fully known world for the reports, made through the real services.

Times are UTC. "Standard" (the default policy) has office hours Mon-Fri 08:00-16:00
Europe/Copenhagen (07:00-15:00 UTC in March 2026); "Always" (Acme's) is open 24x7. Tickets
D and E were made before any policy existed, so their clocks follow none.

| ticket | customer | policy   | prio | created          | first response   | resolved         |
|--------|----------|----------|------|------------------|------------------|------------------|
| E      | -        | -        | normal | 02-27 09:00    | -                | -                |
| A      | Acme     | Always   | high | 03-02 10:00      | 03-02 12:00 (2h) | 03-03 10:00 (24h)|
| B      | =Beta    | Standard | normal | 03-02 14:00    | 03-03 08:00 (2h) | 03-04 09:00 (11h)|
| C      | =Beta    | Standard | normal | 03-03 07:30    | 03-03 08:30 (1h) | -                |
| D      | -        | -        | low  | 03-04 06:00      | 03-04 10:00 (4h) | 03-05 12:00 (30h)|
| F      | Acme     | Always   | normal | 03-02 11:00 (deleted)                                |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from hubdesk.prepaid import service as prepaid
from hubdesk.runtime import Runtime
from hubdesk.sla import service as sla
from hubdesk.tickets import comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users import service as users
from hubdesk.users.models import User
from hubdesk.users.permissions import SYSTEM, Principal
from hubdesk.worklogs import service as worklogs
from tests.support import factories
from tests.support.sla import ALWAYS_OPEN, OFFICE_HOURS, policy_body, targets


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    ids: dict[str, int]
    agents: dict[str, int]


def _agent(session: Session, name: str) -> tuple[User, Principal]:
    user = users.create_user(
        session,
        SYSTEM,
        email=f"{name}@agents.example.com",
        name=name,
        password=None,
        groups=["agents"],
    )
    session.flush()
    return user, users.principal_for(user)


def build(runtime: Runtime) -> World:
    with runtime.db.transaction() as session:
        acme = factories.customer(session, "Acme")
        beta = factories.customer(session, "=Beta")
        anna, anna_p = _agent(session, "anna")
        bo, bo_p = _agent(session, "bo")

        def make(subject: str, when: datetime, **fields: object) -> Ticket:
            return tickets.create_ticket(
                session,
                SYSTEM,
                tickets.NewTicket(subject=subject, **fields),  # type: ignore[arg-type]
                tz=factories.TZ,
                now=when,
            )

        make("E", at(27, 9, month=2))
        d = make("D", at(4, 6), priority="low")
        standard = policy_body("Standard", default=True, country=None, hours=OFFICE_HOURS)
        standard["targets"] = {"normal": targets(180, 240, 720)}
        sla.create_policy(session, SYSTEM, standard)
        always = policy_body(
            "Always", default=False, country=None, hours=ALWAYS_OPEN, customer_ids=[acme.id]
        )
        always["targets"] = {"high": targets(180, 240, 1500), "normal": targets(180, 240, 1500)}
        sla.create_policy(session, SYSTEM, always)
        a = make("A", at(2, 10), priority="high", customer_id=acme.id, assigned_to_user_id=anna.id)
        b = make("B", at(2, 14), customer_id=beta.id, assigned_to_user_id=anna.id)
        c = make("C", at(3, 7, 30), customer_id=beta.id, assigned_to_user_id=bo.id)
        f = make("F", at(2, 11), customer_id=acme.id)
        tickets.delete_ticket(session, SYSTEM, f, now=at(2, 12))
        for ticket, when, who in (
            (a, at(2, 12), anna_p),
            (b, at(3, 8), anna_p),
            (c, at(3, 8, 30), bo_p),
            (d, at(4, 10), bo_p),
        ):
            comments.add_comment(session, who, ticket, "On it.", now=when)
        for ticket, when in ((a, at(3, 10)), (b, at(4, 9)), (d, at(5, 12))):
            tickets.update_ticket(session, SYSTEM, ticket, {"status": "resolved"}, now=when)
        card = prepaid.create_card(
            session,
            SYSTEM,
            prepaid.NewCard(customer_id=beta.id, hours_bought=Decimal("10")),
            today=date(2026, 3, 1),
        )
        prepaid.create_card(
            session,
            SYSTEM,
            prepaid.NewCard(customer_id=acme.id, hours_bought=Decimal("5")),
            today=date(2026, 3, 1),
        )
        today = date(2026, 3, 10)
        worklogs.create_worklog(
            session, anna_p, a, worklogs.NewWorklog(90, work_date=date(2026, 3, 3)), today=today
        )
        worklogs.create_worklog(
            session,
            anna_p,
            b,
            worklogs.NewWorklog(
                30, work_date=date(2026, 3, 4), billing="prepaid", prepaid_card_id=card.id
            ),
            today=today,
        )
        worklogs.create_worklog(
            session,
            bo_p,
            c,
            worklogs.NewWorklog(60, work_date=date(2026, 4, 1)),
            today=date(2026, 4, 2),
        )
        return World(
            {"acme": acme.id, "beta": beta.id, "A": a.id, "B": b.id, "C": c.id, "D": d.id},
            {"anna": anna.id, "bo": bo.id},
        )
