"""Teams, continued (docs/teams.md), through the real pipeline and API on both databases: a
team's Bcc-only delivery of a mail another team has opens that team's ticket exactly once;
mail released from triage or quarantine gets the team of its mailbox; automatic assignment
stays inside a ticket's team; each team's ticket gets its own acknowledgement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.utils import parseaddr
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from hubdesk.audit.models import AuditEntry
from hubdesk.automation.reasons import english
from hubdesk.config import Settings
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import bulk, pipeline
from hubdesk.intake.sources import Source
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import EmailLog, Ticket
from hubdesk.users.models import User
from hubdesk.web.app import create_app
from tests.integration.ui.client import UiClient
from tests.support import factories
from tests.support.api import Api
from tests.support.mail import raw_mail
from tests.support.processes import run_together
from tests.support.workers import ingest_raw

FIRST_ID = "<order-7@mail.example.com>"


@contextmanager
def _api(settings: Settings, **update: Any) -> Iterator[Api]:
    """The API (and its runtime) on `settings` with `update`."""
    runtime = Runtime.build(settings.model_copy(update=update))
    try:
        with TestClient(create_app(runtime.settings, runtime=runtime)) as client:
            yield Api(client=client, runtime=runtime)
    finally:
        runtime.close()


@pytest.fixture
def team_api(settings: Settings) -> Iterator[Api]:
    with _api(settings) as api:
        yield api


def _teams(api: Api) -> tuple[dict[str, int], dict[str, int]]:
    """Teams Support and Sales with a mailbox each, and a mailbox of no team: (teams, boxes)."""
    teams: dict[str, int] = {}
    boxes: dict[str, int] = {}
    for name in ("Support", "Sales"):
        teams[name] = api.ok(api.post("/api/v1/groups", json={"name": name}), 201)["id"]
    for name, address, team in (
        ("support", "support@example.com", teams["Support"]),
        ("sales", "sales@example.com", teams["Sales"]),
        ("info", "info@example.com", None),
    ):
        body: dict[str, Any] = {"name": name, "addresses": [address], "team_id": team}
        boxes[name] = api.ok(api.post("/api/v1/mailboxes", json=body), 201)["id"]
    return teams, boxes


def _mail(**fields: Any) -> bytes:
    values: dict[str, Any] = {
        "subject": "Order 7 never arrived",
        "to": "support@example.com",  # Sales only got it as a Bcc
        "message_id": FIRST_ID,
        "attachments": [("receipt.pdf", "application/pdf", b"%PDF-1.4 receipt")],
    }
    values.update(fields)
    return raw_mail(**values)


def _received(hop: str, raw: bytes) -> bytes:
    """The bytes as another delivery has them (one more trace header: other bytes)."""
    return f"Received: from mx.example.com by {hop}\r\n".encode() + raw


def _counts(api: Api) -> tuple[int, int]:
    with api.runtime.db.transaction(write=False) as session:
        return (
            session.scalar(select(func.count()).select_from(Ticket)) or 0,
            session.scalar(select(func.count()).select_from(EmailLog)) or 0,
        )


def _ticket(api: Api, ticket_id: int | None) -> dict[str, Any]:
    return api.ok(api.get(f"/api/v1/tickets/{ticket_id}"))  # type: ignore[no-any-return]


# -- 1. a Bcc-only delivery to another team's mailbox ---------------------------------------


@pytest.mark.parametrize(
    "channel",
    ["imap_mailbox", "lmtp_rcpt", "http_delivered_to", "same_bytes_other_mailbox"],
)
def test_a_bcc_only_delivery_opens_that_teams_ticket_exactly_once(
    team_api: Api, channel: str
) -> None:
    api = team_api
    teams, boxes = _teams(api)
    mail = _mail()  # built once: its MIME boundary is random
    first = pipeline.ingest(
        api.runtime, _received("mx1", mail), source="imap", mailbox_id=boxes["support"]
    )
    assert (first.status, first.team_tickets) == ("created", ())
    assert _ticket(api, first.ticket_id)["team_id"] == teams["Support"]
    # The same message as the Sales mailbox got it (Bcc: sales@ is in no header).
    copy = _received("mx2", mail)
    delivery: dict[str, Any] = {"source": "imap", "mailbox_id": boxes["sales"]}
    if channel == "lmtp_rcpt":
        delivery = {"source": "lmtp", "envelope": {"rcpt_to": ["sales@example.com"]}}
    elif channel == "http_delivered_to":
        copy = b"Delivered-To: sales+orders@example.com\r\n" + copy
        delivery = {"source": "test"}
    elif channel == "same_bytes_other_mailbox":
        copy = _received("mx1", mail)  # byte for byte the first delivery
    bcc = pipeline.ingest(api.runtime, copy, **delivery)
    assert bcc.status == "created", bcc.reason
    assert bcc.ticket_id != first.ticket_id
    sales = _ticket(api, bcc.ticket_id)
    assert sales["team_id"] == teams["Sales"]
    assert sales["linked_tickets"] == [
        {"ticket_id": first.ticket_id, "ticket_number": first.ticket_number, "kind": "same_email"}
    ]
    assert _ticket(api, first.ticket_id)["linked_tickets"][0]["ticket_id"] == sales["id"]
    assert "a Bcc copy" in bcc.reason
    with api.runtime.db.transaction(write=False) as session:
        logs = [
            (log.ticket_id, log.inbound_id, log.reason)
            for log in session.scalars(select(EmailLog).order_by(EmailLog.ticket_id))
        ]
        row = session.get(InboundMessage, bcc.inbound_id)
        assert row is not None
        assert (row.status, row.duplicate_of_id) == ("processed", first.inbound_id)
    # Both tickets' email log rows point at the first delivery's stored raw message.
    assert [(ticket, ledger) for ticket, ledger, _ in logs] == [
        (first.ticket_id, first.inbound_id),
        (sales["id"], first.inbound_id),
    ]
    assert "reached Sales's mailbox" in logs[1][2]
    assert "so one ticket for Sales, linked to them" in logs[1][2]
    # Delivered again (same bytes, or another copy): nothing more, for either team.
    assert pipeline.ingest(api.runtime, copy, **delivery).status == "duplicate"
    again = _received("mx3", mail)
    assert pipeline.ingest(api.runtime, again, source="imap", mailbox_id=boxes["sales"]).status == (
        "duplicate"
    )
    assert (
        pipeline.ingest(api.runtime, again, source="imap", mailbox_id=boxes["support"]).status
        == "duplicate"
    )
    assert _counts(api) == (2, 2)


def test_a_bcc_copy_in_the_same_import_batch_opens_that_teams_ticket_without_a_retry(
    team_api: Api,
) -> None:
    """`hubdesk ingest` of a mail and its copy to another team's address in one batch: the
    copy's claim for that team is inserted at once and refers to the copy's ledger row,
    which a SQLite batch otherwise writes with the chunk's next flush; the batch still runs
    once, without a savepoint, and both tickets are made."""
    api = team_api
    teams, _boxes = _teams(api)
    mail = _mail()
    copy = b"Delivered-To: sales+orders@example.com\r\n" + _received("mx2", mail)
    sources = [Source(f"m{i}", (lambda raw=raw: raw)) for i, raw in enumerate((mail, copy))]
    savepoints: list[str] = []

    def watch(*args: Any) -> None:
        if args[2].startswith("SAVEPOINT"):
            savepoints.append(args[2])

    event.listen(api.runtime.db.engine, "before_cursor_execute", watch)
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(api.runtime, sources)]
    finally:
        event.remove(api.runtime.db.engine, "before_cursor_execute", watch)
    assert [o.status for o in outcomes] == ["created", "created"], outcomes
    assert [_ticket(api, o.ticket_id)["team_id"] for o in outcomes] == [
        teams["Support"],
        teams["Sales"],
    ]
    assert savepoints == []


def test_two_bcc_copies_at_once_make_the_teams_ticket_once(team_api: Api) -> None:
    """Two workers (the Sales mailbox's poller, and a second fetch of it) take two copies of
    the Bcc delivery at the same moment: one Sales ticket, the other copy a duplicate."""
    api = team_api
    teams, boxes = _teams(api)
    mail = _mail()
    pipeline.ingest(api.runtime, mail, source="imap", mailbox_id=boxes["support"])
    settings = api.runtime.settings.model_dump_json()
    statuses = run_together(
        ingest_raw,
        [(settings, _received(hop, mail), "imap", boxes["sales"]) for hop in ("mx2", "mx3")],
    )
    assert sorted(statuses) == ["created", "duplicate"]
    with api.runtime.db.transaction(write=False) as session:
        found = list(session.scalars(select(Ticket.team_id).order_by(Ticket.id)))
    assert found == [teams["Support"], teams["Sales"]]
    assert _counts(api) == (2, 2)


def test_a_bcc_to_a_mailbox_of_no_team_or_of_spam_stays_a_duplicate(team_api: Api) -> None:
    api = team_api
    _unused, boxes = _teams(api)
    mail = _mail()
    pipeline.ingest(api.runtime, mail, source="imap", mailbox_id=boxes["support"])
    info = pipeline.ingest(
        api.runtime, _received("mx2", mail), source="imap", mailbox_id=boxes["info"]
    )
    assert info.status == "duplicate"
    # A first delivery that made no ticket (triage: no sender) opens none for a Bcc copy.
    held = b"To: support@example.com\r\nSubject: help\r\nMessage-ID: <h@x>\r\n\r\nCall me.\r\n"
    assert pipeline.ingest(api.runtime, held, source="test").ticket_id is None
    bcc = pipeline.ingest(
        api.runtime, _received("mx2", held), source="imap", mailbox_id=boxes["sales"]
    )
    assert bcc.status == "duplicate"
    assert _counts(api) == (1, 1)


def test_a_bcc_copy_of_a_reply_goes_to_that_teams_linked_ticket(team_api: Api) -> None:
    api = team_api
    _unused, boxes = _teams(api)
    both = pipeline.ingest(api.runtime, _mail(cc=["sales@example.com"]), source="test")
    assert len(both.team_tickets) == 1
    reply = raw_mail(
        subject="Re: Order 7 never arrived",
        to="support@example.com",
        in_reply_to=FIRST_ID,
        message_id="<reply-7@mail.example.com>",
        body="It came today after all.",
    )
    first = pipeline.ingest(api.runtime, reply, source="imap", mailbox_id=boxes["support"])
    assert (first.status, first.ticket_id, first.team_tickets) == ("linked", both.ticket_id, ())
    bcc = pipeline.ingest(
        api.runtime, _received("mx2", reply), source="imap", mailbox_id=boxes["sales"]
    )
    assert bcc.status == "linked"
    assert bcc.ticket_number == both.team_tickets[0]
    emails = api.ok(api.get(f"/api/v1/tickets/{bcc.ticket_id}/emails"))["emails"]
    inbound = [e for e in emails if e["direction"] == "inbound"]
    assert len(inbound) == 2
    assert "so to that team's ticket" in inbound[-1]["reason"]
    assert _counts(api) == (2, 4)


# -- 2. mail released by hand gets the team of its mailbox ------------------------------------


@pytest.mark.parametrize(("mailbox", "team"), [("sales", "Sales"), ("info", None)])
def test_a_quarantined_mail_made_a_ticket_gets_its_mailboxs_team(
    team_api: Api, mailbox: str, team: str | None
) -> None:
    api = team_api
    teams, boxes = _teams(api)
    garbage = b"\x00\x01 not a mail at all"
    held = pipeline.ingest(api.runtime, garbage, source="imap", mailbox_id=boxes[mailbox])
    assert held.status == "quarantined"
    made = api.ok(
        api.post(f"/api/v1/inbound/{held.inbound_id}/ticket", json={"sender": "anna@example.org"}),
        201,
    )
    assert _ticket(api, made["ticket_id"])["team_id"] == (teams[team] if team else None)


def test_a_quarantined_mail_by_lmtp_gets_its_recipients_team(team_api: Api) -> None:
    api = team_api
    teams, _boxes = _teams(api)
    envelope = {"rcpt_to": ["info@example.com", "sales+x@example.com"]}
    held = pipeline.ingest(api.runtime, b"\x00 junk", source="lmtp", envelope=envelope)
    made = api.ok(
        api.post(f"/api/v1/inbound/{held.inbound_id}/ticket", json={"sender": "a@example.org"}),
        201,
    )
    assert _ticket(api, made["ticket_id"])["team_id"] == teams["Sales"]


@pytest.mark.parametrize(("mailbox", "team"), [("sales", "Sales"), ("info", None)])
def test_mail_released_from_triage_gets_its_mailboxs_team(
    team_api: Api, mailbox: str, team: str | None
) -> None:
    api = team_api
    teams, boxes = _teams(api)
    no_sender = b"Subject: help\r\nTo: x@example.org\r\n\r\nCall me.\r\n"  # triage
    held = pipeline.ingest(api.runtime, no_sender, source="imap", mailbox_id=boxes[mailbox])
    assert held.ticket_id is None, held.reason
    made = api.ok(api.post(f"/api/v1/triage/{held.inbound_id}", json={"action": "create_ticket"}))
    assert _ticket(api, made["ticket_id"])["team_id"] == (teams[team] if team else None)


# -- 3. automatic assignment inside the ticket's team -----------------------------------------


def _people(api: Api) -> dict[str, int]:
    """In Sales: s1, s2 available, s3 unavailable, s4 inactive; o1 available, in Support."""
    ids = {}
    with api.runtime.db.transaction() as session:
        for name, fields, groups in (
            ("s1", {}, ["agents", "Sales"]),
            ("s2", {}, ["agents", "Sales"]),
            ("s3", {"available": False}, ["agents", "Sales"]),
            ("s4", {"active": False}, ["agents", "Sales"]),
            ("o1", {}, ["agents", "Support"]),
        ):
            ids[name] = factories.agent(
                session, f"{name}@hubdesk.example.com", groups=groups, **fields
            ).id
    return ids


def _assignee(api: Api, raw: bytes) -> tuple[int | None, list[Any]]:
    outcome = pipeline.ingest(api.runtime, raw, source="test")
    with api.runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket is not None
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "auto_assigned", AuditEntry.ticket_id == ticket.id
            )
        ).one()
        return ticket.assigned_to_user_id, entry.changes["reason"][1]


AUTO: dict[str, Any] = {"ticket_auto_assign": True, "ticket_auto_assign_group": "agents"}


@pytest.mark.parametrize("strategy", ["round_robin", "least_open"])
def test_auto_assign_picks_only_available_members_of_the_tickets_team(
    settings: Settings, strategy: str
) -> None:
    with _api(settings, **AUTO, ticket_auto_assign_strategy=strategy) as api:
        _auto_assign_in_team(api)


def _auto_assign_in_team(api: Api) -> None:
    _teams(api)
    ids = _people(api)
    picked = [
        _assignee(api, raw_mail(to="sales@example.com", sender=f"c{i}@example.org"))[0]
        for i in range(4)
    ]
    assert picked == [ids["s1"], ids["s2"], ids["s1"], ids["s2"]]
    _who, why = _assignee(api, raw_mail(to="sales@example.com", sender="c9@example.org"))
    assert why[0]["params"]["group"] == "Sales"
    # No team: the group of TICKET_AUTO_ASSIGN_GROUP, as before (o1 is an agent as well).
    anyone, _ = _assignee(api, raw_mail(to="info@example.com", sender="x@example.org"))
    assert anyone is not None


def test_a_team_without_an_available_member_leaves_its_ticket_unassigned(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with _api(settings, **AUTO) as api:
        _teams(api)
        ids = _people(api)
        with api.runtime.db.transaction() as session:
            for name in ("s1", "s2"):
                user = session.get(User, ids[name])
                assert user is not None
                user.available = False
        with caplog.at_level("WARNING", logger="hubdesk.automation.assignment"):
            who, why = _assignee(api, raw_mail(to="sales@example.com", sender="c@example.org"))
    assert who is None  # not o1 of Support, nor anyone of `agents` outside Sales
    assert why == [{"message": "team_nobody_available", "params": {"team": "Sales"}}]
    assert english(why).startswith("no available agent in team Sales: left unassigned")
    assert "left unassigned" in caplog.text


# -- 4. one acknowledgement per team's ticket -------------------------------------------------


def test_each_teams_ticket_gets_its_own_acknowledgement_from_its_mailbox(
    settings: Settings,
) -> None:
    with _api(settings, smtp_host="127.0.0.1", ticket_auto_reply=True) as api:
        _acknowledgements(api)


def _acknowledgements(api: Api) -> None:
    _teams(api)
    both = pipeline.ingest(
        api.runtime, _mail(to="support@example.com", cc=["sales+dk@example.com"]), source="test"
    )
    sales = api.ok(api.get(f"/api/v1/tickets/by-number/{both.team_tickets[0]}"))
    with api.runtime.db.transaction(write=False) as session:
        acks = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "auto_reply")
                .order_by(OutboxMessage.id)
            )
        )
        sent = [(a.ticket_id, message_from_bytes(a.raw)) for a in acks]
        row = session.get(InboundMessage, both.inbound_id)
        assert row is not None
        facts = row.flags["auto_reply"]
    assert [t for t, _ in sent] == [both.ticket_id, sales["id"]]
    assert both.ticket_number is not None
    for (_t, message), number, address in (
        (sent[0], both.ticket_number, "support@example.com"),
        (sent[1], sales["ticket_number"], "sales+dk@example.com"),
    ):
        assert number in message["Subject"]
        assert address in message["From"]
        assert message["In-Reply-To"] == FIRST_ID
        assert message["To"] == "customer@example.com"
    assert sales["ticket_number"] in facts
    # The customer answers each acknowledgement: each answer threads to that ticket alone.
    for ticket_id, message in (sent[1], sent[0]):
        ack_id = "".join(str(message["Message-ID"]).split())  # unfolded
        answer = raw_mail(
            subject="Re: your acknowledgement",  # no ticket number: the id alone decides
            to=parseaddr(str(message["From"]))[1],
            in_reply_to=ack_id,
            references=[FIRST_ID, ack_id],
            body="Thanks.",
        )
        threaded = pipeline.ingest(api.runtime, answer, source="test")
        assert (threaded.status, threaded.ticket_id, threaded.team_tickets) == (
            "linked",
            ticket_id,
            (),
        )
    # Mail to one team: its acknowledgement comes from that team's mailbox too.
    one = pipeline.ingest(
        api.runtime, raw_mail(to="sales@example.com", sender="b@example.org"), source="test"
    )
    with api.runtime.db.transaction(write=False) as session:
        last = session.scalars(
            select(OutboxMessage).where(OutboxMessage.ticket_id == one.ticket_id)
        ).one()
        assert "sales@example.com" in message_from_bytes(last.raw)["From"]


# -- 5. the list's team filter (the page's query, and saved views) ----------------------------


def test_the_ticket_list_filters_by_team_or_no_team_and_views_keep_it(team_api: Api) -> None:
    api = team_api
    teams, _boxes = _teams(api)
    made = {
        to: pipeline.ingest(api.runtime, raw_mail(to=f"{to}@example.com"), source="test")
        for to in ("support", "sales", "info")
    }
    ui = UiClient(client=api.client, runtime=api.runtime)
    ui.log_in_as(["agents", "Sales"])

    def listed(team: str) -> set[int | None]:
        page = ui.get("/tickets", params={"team": team, "status": ""})
        assert page.status_code == 200, page.text
        return {t.ticket_id for t in made.values() if f'href="/tickets/{t.ticket_id}"' in page.text}

    assert listed("") == {made["sales"].ticket_id, made["info"].ticket_id}
    assert listed("none") == {made["info"].ticket_id}
    assert listed(str(teams["Sales"])) == {made["sales"].ticket_id}
    assert listed(str(teams["Support"])) == set()  # not in the member's queues
    ui.forget_cookies()
    ui.log_in_as(["admins"])
    assert listed(str(teams["Support"])) == {made["support"].ticket_id}
    assert listed("") == {t.ticket_id for t in made.values()}
    assert ui.get("/tickets", params={"team": "sales"}).status_code == 400
    view = api.ok(
        api.post(
            "/api/v1/saved-views",
            json={"name": "No team", "query": {"team": "none", "sort": "subject"}},
        ),
        201,
    )
    assert view["query"] == {"team": "none", "sort": "subject"}
    bad = api.post("/api/v1/saved-views", json={"name": "Bad", "query": {"team": "Sales"}})
    assert bad.status_code == 422
    assert "query.team" in bad.json()["detail"]
