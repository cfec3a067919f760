"""The reports' per-ticket facts (sla/report_facts.py) on SQLite and PostgreSQL: the fast
reports (stored facts) equal the reference (business time computed at request time) on
random tickets, with stale, missing and clamped facts mixed in; and every write path through
the real services leaves each ticket's facts right."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.orm import Session

from hubdesk.db import migrate
from hubdesk.db.uow import Database
from hubdesk.intake import pipeline
from hubdesk.reports import params, service
from hubdesk.runtime import Runtime
from hubdesk.sla import report_facts
from hubdesk.sla import service as sla
from hubdesk.sla.models import SlaClock, SlaPolicy
from hubdesk.tickets import comments
from hubdesk.tickets import service as tickets
from hubdesk.tickets.models import Ticket
from hubdesk.users import service as users
from hubdesk.users.permissions import ALL_PERMISSIONS, SYSTEM, Principal
from tests.support import factories
from tests.support.mail import raw_mail
from tests.support.sla import ALWAYS_OPEN, OFFICE_HOURS, policy_body

SPLIT_HOURS: dict[str, list[list[str]]] = {
    "mon": [["07:30", "11:00"], ["12:00", "17:45"]],
    "tue": [["00:00", "02:00"], ["22:00", "24:00"]],
    "wed": [["09:00", "17:00"]],
    "thu": [],
    "fri": [["08:00", "12:00"]],
    "sat": [["10:00", "14:00"]],
    "sun": [],
}
T0 = datetime(2026, 3, 1, tzinfo=UTC)  # the period holds the DST change of 2026-03-29


def _check(start: str, end: str, interval: str | None = None, **filters: Any) -> Any:
    return params.check(from_=start, to=end, interval=interval, today=date(2026, 12, 31), **filters)


def _both(session: Session, name: str, checked: Any, now: datetime) -> tuple[Any, Any]:
    fast = service.run(session, SYSTEM, name, checked, now)
    reference = service.run(session, SYSTEM, name, checked, now, use_facts=False)
    return (fast.rows, fast.totals), (reference.rows, reference.totals)


def _agent(session: Session, name: str) -> Principal:
    user = users.create_user(
        session, SYSTEM, email=f"{name}@hubdesk.example.com", name=name, password=None, groups=[]
    )
    return Principal(user.id, user.email, frozenset(ALL_PERMISSIONS))


def _policies(session: Session) -> list[int]:
    out = []
    for name, hours, country in (
        ("Office", OFFICE_HOURS, "DK"),
        ("Split", SPLIT_HOURS, None),
        ("Always", ALWAYS_OPEN, None),
    ):
        body = policy_body(name, default=False, hours=hours, country=country)
        body["calendar"]["holidays"] = ["2026-04-07"] if name == "Split" else []
        out.append(sla.create_policy(session, SYSTEM, body).id)
    return out


def _moment(rng: random.Random, after: datetime, days: float) -> datetime:
    return after + timedelta(seconds=rng.uniform(0, days * 86400))


def test_fast_reports_equal_the_reference_on_random_tickets(db: Database) -> None:
    rng = random.Random(20261204)
    now = datetime(2026, 5, 3, tzinfo=UTC)
    with db.transaction() as session:
        policy_ids = _policies(session)
        agents = [_agent(session, f"agent{i}").user_id for i in range(3)]
        made = []
        for i in range(240):
            created = _moment(rng, T0, 60)
            ticket = factories.ticket(
                session,
                f"Random {i}",
                now=created,
                priority=rng.choice(["low", "normal", "high", "critical"]),
                assigned_to_user_id=rng.choice([*agents, None]),
            )
            roll = rng.random()
            ticket.first_response_at = (
                None
                if roll < 0.15
                else created - timedelta(seconds=30)
                if roll < 0.2  # a response stamped before the creation (imported data)
                else _moment(rng, created, 6)
            )
            if rng.random() < 0.7:
                # Some far past `now` (the reference clamps them to its table's end).
                ticket.resolved_at = _moment(rng, created, 40 if rng.random() < 0.9 else 700)
            made.append(ticket.id)
        session.flush()
        for ticket_id in made:
            session.execute(
                update(SlaClock)
                .where(SlaClock.ticket_id == ticket_id)
                .values(policy_id=rng.choice([*policy_ids, None]))
            )
        session.execute(update(Ticket).values(report_stamp=None))
        report_facts.backfill(session.connection(), batch=50)
        # Stale facts: inputs changed behind the hooks' back, a clock without facts.
        for ticket_id in rng.sample(made, 25):
            session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(first_response_at=_moment(rng, T0 + timedelta(days=60), 3))
            )
        session.execute(update(Ticket).where(Ticket.id == made[0]).values(report_stamp=None))
    cases = [
        _check("2026-03-01", "2026-04-29"),
        _check("2026-03-01", "2026-04-29", "week"),
        _check("2026-03-20", "2026-04-05", priority="high"),
        _check("2026-03-01", "2026-03-31", "day"),
    ]
    with db.transaction(write=False) as session:
        for checked in cases:
            for name in ("response-times", "agents"):
                fast, reference = _both(session, name, checked, now)
                assert fast == reference, (name, checked)
    # The fast path does read the facts: a wrong stored number shows in the report.
    with db.transaction() as session:
        session.execute(
            update(Ticket)
            .where(Ticket.report_first_s.is_not(None))
            .values(report_first_s=Ticket.report_first_s + 3600)
        )
    with db.transaction(write=False) as session:
        fast, reference = _both(session, "response-times", cases[0], now)
        assert fast != reference


def test_business_seconds_equal_the_report_table() -> None:
    """The Python sum equals cum(b) - cum(a) over reports/business_time.py's table."""
    from hubdesk.reports import business_time
    from hubdesk.sla.calendar import build_calendar

    rng = random.Random(7)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for hours, country in ((OFFICE_HOURS, "DK"), (SPLIT_HOURS, None), (ALWAYS_OPEN, None)):
        calendar = build_calendar("Europe/Copenhagen", hours, ["2026-04-07"], country)
        table = business_time.build([(1, calendar)], start, start + timedelta(days=80))
        by_day = {row[2]: row for row in table.rows}

        def cum(x: int, by_day: dict[int, tuple[int, ...]] = by_day) -> int:
            row = by_day[x // 86400]
            pieces = zip(row[4::2], row[5::2], strict=True)
            return row[3] + sum(max(min(x - s, length), 0) for s, length in pieces)

        pieces = report_facts.Pieces(calendar)
        for _ in range(400):
            a = int(start.timestamp()) + rng.randrange(0, 70 * 86400)
            b = a + rng.randrange(-3600, 9 * 86400)
            assert pieces.between(a, b) == max(cum(b) - cum(a), 0)
            assert report_facts.Pieces(calendar).between(a, b) == pieces.between(a, b)


def _facts_right(session: Session) -> list[int]:
    """Every ticket's facts (on its row, read back from the database) are fresh and equal a
    fresh computation, except where there is nothing to measure (neither a response nor a
    resolution: such tickets are left out of the reports); returns the ticket ids."""
    session.flush()
    checked = []
    for clock in session.scalars(select(SlaClock)):
        ticket = session.get(Ticket, clock.ticket_id)
        assert ticket is not None
        facts = session.execute(
            select(
                Ticket.report_stamp,
                Ticket.report_created_at,
                Ticket.report_first_at,
                Ticket.report_resolved_at,
                Ticket.report_first_s,
                Ticket.report_resolution_s,
            ).where(Ticket.id == ticket.id)
        ).one()
        checked.append(ticket.id)
        if ticket.first_response_at is None and ticket.resolved_at is None:
            continue
        policy = session.get(SlaPolicy, clock.policy_id) if clock.policy_id else None
        assert facts.report_stamp == (sla.report_stamp(policy) if policy else report_facts.WALL)
        assert facts.report_created_at == ticket.created_at
        assert facts.report_first_at == ticket.first_response_at
        assert facts.report_resolved_at == ticket.resolved_at
        pieces = report_facts.Pieces(sla.calendar_of(policy)) if policy else None
        assert (facts.report_first_s, facts.report_resolution_s) == report_facts.durations(
            ticket.created_at, ticket.first_response_at, ticket.resolved_at, pieces
        )
        # the loaded ticket was told the values written behind the ORM
        assert ticket.report_first_s == facts.report_first_s
    return checked


def _reports_agree(runtime: Runtime, now: datetime) -> None:
    with runtime.db.transaction(write=False) as session:
        for name in ("response-times", "agents"):
            fast, reference = _both(session, name, _check("2026-03-01", "2026-03-31"), now)
            assert fast == reference


def test_every_write_path_keeps_the_facts_right(runtime: Runtime) -> None:
    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 3, day, hour, minute, tzinfo=UTC)

    with runtime.db.transaction() as session:
        sla.create_policy(session, SYSTEM, policy_body("Office", default=True))
        acme = factories.customer(session, "Acme", domains=["acme.example.com"])
        sla.create_policy(
            session,
            SYSTEM,
            policy_body("Always", default=False, hours=ALWAYS_OPEN, customer_ids=[acme.id]),
        )
        anna = _agent(session, "anna")
        contact = factories.contact(session, "kim@acme.example.com", acme.id)
        ticket = factories.ticket(session, "Created", now=at(2, 9, 17))  # created
        assert _facts_right(session) == [ticket.id]
        comments.add_comment(session, anna, ticket, "Internal.", internal=True, now=at(2, 10))
        _facts_right(session)
        comments.add_comment(session, anna, ticket, "On it.", now=at(2, 11, 5))  # 1st response
        _facts_right(session)
        comments.add_comment(
            session, SYSTEM, ticket, "Thanks", author_contact_id=contact.id, now=at(2, 12)
        )
        _facts_right(session)
        for status, when in (
            ("resolved", at(3, 15)),
            ("open", at(4, 8)),
            ("resolved", at(5, 14)),
            ("closed", at(6, 9)),
        ):
            tickets.update_ticket(session, SYSTEM, ticket, {"status": status}, now=when)
            _facts_right(session)
        other = factories.ticket(session, "Moved", now=at(9, 7))
        tickets.update_ticket(session, SYSTEM, other, {"customer_id": acme.id}, now=at(9, 8))
        _facts_right(session)  # another policy, another calendar
        tickets.update_ticket(session, SYSTEM, other, {"priority": "high"}, now=at(9, 9))
        tickets.update_ticket(session, SYSTEM, other, {"status": "resolved"}, now=at(10, 16))
        _facts_right(session)
        late = factories.ticket(session, "Resolved first", now=at(11, 9))
        tickets.update_ticket(session, SYSTEM, late, {"status": "resolved"}, now=at(11, 10))
        comments.add_comment(session, anna, late, "Answer after all.", now=at(12, 9))
        _facts_right(session)  # a response on a stopped clock
        merged = factories.ticket(session, "Duplicate", now=at(12, 10))
        tickets.merge_ticket(session, SYSTEM, merged, late, now=at(12, 11))
        _facts_right(session)
    pipeline.ingest(
        runtime,
        raw_mail(subject="By mail", sender="kim@acme.example.com"),
        source="test",
        received_at=at(13, 8),
    )
    with runtime.db.transaction() as session:
        assert len(_facts_right(session)) == 5
    _reports_agree(runtime, at(31, 12))
    # A new calendar: the running clocks get new facts at once, stopped ones are computed
    # at request time until refreshed (same numbers either way).
    with runtime.db.transaction() as session:
        office = session.scalars(select(SlaPolicy).where(SlaPolicy.name == "Office")).one()
        sla.update_policy(
            session,
            SYSTEM,
            office,
            {"calendar": {**sla.calendar_json(office), "hours": ALWAYS_OPEN}},
            now=at(20, 9),
        )
    _reports_agree(runtime, at(31, 12))
    with runtime.db.transaction() as session:
        report_facts.backfill(session.connection())
        _facts_right(session)
        sla.delete_policy(session, SYSTEM, office)
    _reports_agree(runtime, at(31, 12))
    with runtime.db.transaction() as session:
        report_facts.backfill(session.connection())
        _facts_right(session)


def test_a_refresh_writes_the_facts_without_bumping_the_version(db: Database) -> None:
    """The facts are derived data: the hook writes them with a plain UPDATE of their columns,
    so a ticket's `version` (its ETag) does not change, and the loaded ticket sees them."""
    with db.transaction() as session:
        sla.create_policy(session, SYSTEM, policy_body("Office", default=True))
        ticket = factories.ticket(session, "Versioned", now=datetime(2026, 3, 2, 9, tzinfo=UTC))
        ticket.first_response_at = datetime(2026, 3, 2, 11, tzinfo=UTC)
        session.flush()
        session.execute(update(Ticket).where(Ticket.id == ticket.id).values(report_stamp=None))
        session.refresh(ticket)
        version = ticket.version
        clock = session.get(SlaClock, ticket.id)
        assert clock is not None
        sla.refresh_report_facts(session, clock)
        session.flush()
        assert ticket.report_first_s == 2 * 3600  # office hours 08-16: two business hours
        _facts_right(session)
        session.refresh(ticket)
        assert ticket.version == version
        assert ticket.report_first_s == 2 * 3600


def test_deleting_a_policy_marks_its_tickets_facts_stale(db: Database) -> None:
    """Facts made in a deleted policy's calendar lose their stamp (so that a later policy
    with the same id and calendar cannot pass them off as its own) and the reports compute
    those tickets at request time, in wall-clock time, as the reference does."""
    now = datetime(2026, 3, 31, tzinfo=UTC)
    with db.transaction() as session:
        office = sla.create_policy(session, SYSTEM, policy_body("Office", default=True))
        anna = _agent(session, "anna")
        made = []
        for day in range(2, 8):
            ticket = factories.ticket(session, f"T{day}", now=datetime(2026, 3, day, 9, tzinfo=UTC))
            comments.add_comment(
                session, anna, ticket, "Answer", now=datetime(2026, 3, day, 15, tzinfo=UTC)
            )
            made.append(ticket.id)
        _facts_right(session)
        stamps = session.scalars(select(Ticket.report_stamp).where(Ticket.id.in_(made))).all()
        assert set(stamps) == {sla.report_stamp(office)}
        sla.delete_policy(session, SYSTEM, office)
        stamps = session.scalars(select(Ticket.report_stamp).where(Ticket.id.in_(made))).all()
        assert set(stamps) == {None}
    with db.transaction(write=False) as session:
        for name in ("response-times", "agents"):
            fast, reference = _both(session, name, _check("2026-03-01", "2026-03-31"), now)
            assert fast == reference
        # wall-clock now: six hours from 09:00 to 15:00
        report = service.run(
            session, SYSTEM, "response-times", _check("2026-03-01", "2026-03-31"), now
        )
        assert report.totals is not None
        assert report.totals["first_response_median_hours"] == 6.0


def test_the_migration_backfills_the_facts_of_existing_tickets(runtime: Runtime) -> None:
    """Down to 0015_scale (the facts lived on the clock) and up again: 0016_report_rollups
    computes every existing ticket's facts on its row, equal to a fresh computation, and
    the reports take them (fast equals the reference)."""
    now = datetime(2026, 3, 31, tzinfo=UTC)
    with runtime.db.transaction() as session:
        office = sla.create_policy(session, SYSTEM, policy_body("Office", default=True))
        acme = factories.customer(session, "Acme", domains=["acme.example.com"])
        body = policy_body("Always", default=False, hours=ALWAYS_OPEN, customer_ids=[acme.id])
        sla.create_policy(session, SYSTEM, body)
        for day in range(2, 9):
            created = datetime(2026, 3, day, 9, 30, tzinfo=UTC)
            ticket = factories.ticket(
                session, f"T{day}", now=created, customer_id=acme.id if day % 2 else None
            )
            ticket.first_response_at = created + timedelta(hours=day)
            if day % 3:
                ticket.resolved_at = created + timedelta(days=day)
        factories.ticket(session, "Unanswered", now=datetime(2026, 3, 3, tzinfo=UTC))
        session.flush()
        session.execute(update(Ticket).values(report_stamp=None, report_first_s=None))
        assert office.id
    engine = runtime.db.engine
    config = migrate.alembic_config()
    with engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, "0015_scale")
    columns = {c["name"] for c in inspect(engine).get_columns("tticket_tickets")}
    assert "report_first_s" not in columns
    migrate.upgrade(engine)
    with runtime.db.transaction() as session:
        assert len(_facts_right(session)) == 8
        stamped = session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.report_stamp.is_not(None))
        )
        assert stamped == 7  # the unanswered ticket has nothing to measure
    _reports_agree(runtime, now)


def test_the_calendar_table_follows_a_policy_change(db: Database) -> None:
    """The calendar table is cached per process (and on SQLite kept as a temp table of the
    connection): a report after a change of the policy's hours uses the new hours. The
    ticket's facts are made stale so that both reports compute from the table."""
    created = datetime(2026, 3, 2, 14, tzinfo=UTC)  # Monday 15:00 in Copenhagen
    answered = datetime(2026, 3, 3, 8, tzinfo=UTC)  # Tuesday 09:00: 2 office hours later
    with db.transaction() as session:
        office = sla.create_policy(session, SYSTEM, policy_body("Office", default=True))
        ticket = factories.ticket(session, "Overnight", now=created)
        ticket.first_response_at = answered
        session.flush()
    checked = _check("2026-03-01", "2026-03-31")
    now = datetime(2026, 4, 1, tzinfo=UTC)

    def first_response_hours() -> Any:
        with db.transaction() as session:
            session.execute(update(Ticket).values(report_stamp=None))
        with db.transaction(write=False) as session:
            report = service.run(session, SYSTEM, "response-times", checked, now)
            if session.get_bind().dialect.name == "sqlite":
                temp = session.execute(
                    text(
                        "SELECT COUNT(*) FROM temp.sqlite_master "
                        "WHERE type = 'table' AND name LIKE 'report_calendar%'"
                    )
                ).scalar_one()
                assert temp == 1  # one table per connection, older keys dropped
            assert report.totals is not None
            return report.totals["first_response_median_hours"]

    assert first_response_hours() == 2.0
    assert first_response_hours() == 2.0  # from the cache
    with db.transaction() as session:
        policy = session.get(SlaPolicy, office.id)
        assert policy is not None
        sla.update_policy(
            session,
            SYSTEM,
            policy,
            {"calendar": {**sla.calendar_json(policy), "hours": ALWAYS_OPEN}},
            now=now,
        )
    assert first_response_hours() == 18.0
