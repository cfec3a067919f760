"""Teams and one email to several teams' mailboxes, through the real pipeline and API on both
databases: one linked ticket per team sharing one stored raw message, exactly once across
re-runs, re-deliveries and a crash; replies to the team's ticket or, when ambiguous, to all;
team queues; split links."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select

from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import actions, bulk, pipeline
from hubdesk.intake.preview import preview
from hubdesk.intake.sources import Source
from hubdesk.tickets.models import Attachment, EmailLog, Ticket
from hubdesk.users import service as users
from hubdesk.users.models import User
from hubdesk.web.ui.dashboard import active_by_priority
from tests.support.api import Api
from tests.support.mail import raw_mail

FIRST_ID = "<order-1@mail.example.com>"


def _teams(api: Api) -> dict[str, int]:
    """Teams Support and Sales with a mailbox each, and a mailbox of no team."""
    made = {}
    for name in ("Support", "Sales"):
        made[name] = api.ok(api.post("/api/v1/groups", json={"name": name}), 201)["id"]
    for name, address, team in (
        ("support", "support@example.com", made["Support"]),
        ("sales", "sales@example.com", made["Sales"]),
        ("info", "info@example.com", None),
    ):
        body: dict[str, Any] = {"name": name, "addresses": [address], "team_id": team}
        mailbox = api.ok(api.post("/api/v1/mailboxes", json=body), 201)
        assert mailbox["team_id"] == team
    return made


def _first(**fields: Any) -> bytes:
    values: dict[str, Any] = {
        "subject": "Invoice wrong and printer broken",
        "to": "support@example.com",
        "cc": ["sales+dk@example.com", "someone@elsewhere.example.org"],
        "message_id": FIRST_ID,
        "attachments": [("invoice.pdf", "application/pdf", b"%PDF-1.4 invoice")],
    }
    values.update(fields)
    return raw_mail(**values)


def _counts(api: Api) -> tuple[int, int, int]:
    with api.runtime.db.transaction(write=False) as session:
        return (
            session.scalar(select(func.count()).select_from(Ticket)) or 0,
            session.scalar(select(func.count()).select_from(EmailLog)) or 0,
            session.scalar(select(func.count()).select_from(InboundMessage)) or 0,
        )


def test_one_email_to_two_teams_opens_two_linked_tickets_on_one_raw_message(api: Api) -> None:
    teams = _teams(api)
    plan = preview(api.runtime, _first())
    outcome = pipeline.ingest(api.runtime, _first(), source="test")
    assert outcome.status == "created"
    assert outcome.reason == plan["reason"]
    assert plan["team"] == "Support"
    assert [c["team"] for c in plan["team_tickets"]] == ["Sales"]
    assert len(outcome.team_tickets) == 1
    support = api.ok(api.get(f"/api/v1/tickets/{outcome.ticket_id}"))
    sales = api.ok(api.get(f"/api/v1/tickets/by-number/{outcome.team_tickets[0]}"))
    assert (support["team_id"], sales["team_id"]) == (teams["Support"], teams["Sales"])
    assert support["linked_tickets"] == [
        {"ticket_id": sales["id"], "ticket_number": sales["ticket_number"], "kind": "same_email"}
    ]
    assert support["linked_tickets"][0]["ticket_id"] == sales["id"]
    assert sales["linked_tickets"][0]["ticket_id"] == support["id"]
    with api.runtime.db.transaction(write=False) as session:
        logs = [
            (log.inbound_id, log.ticket_id, log.reason)
            for log in session.scalars(select(EmailLog).order_by(EmailLog.ticket_id))
        ]
        files = list(session.scalars(select(Attachment.sha256).order_by(Attachment.ticket_id)))
        ledger = list(session.scalars(select(InboundMessage.id)))
    # One ledger row (one raw blob), both email log rows point at it.
    assert len(ledger) == 1
    assert [(i, t) for i, t, _ in logs] == [(ledger[0], support["id"]), (ledger[0], sales["id"])]
    assert "one ticket per team, this one Support's" in logs[0][2]
    assert "one ticket per team, this one Sales's" in logs[1][2]
    assert "Sales: sales+dk@example.com" in logs[0][2]
    assert len(files) == 2
    assert files[0] == files[1]  # the same stored bytes
    emails = api.ok(api.get(f"/api/v1/tickets/{sales['id']}/emails"))["emails"]
    raw = api.get(f"/api/v1/inbound/{ledger[0]}/raw")
    assert raw.status_code == 200
    assert FIRST_ID.encode() in raw.content
    assert emails[0]["email_message_id"] == FIRST_ID


def test_each_team_gets_its_ticket_exactly_once(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _teams(api)
    # A crash while opening the second team's ticket: nothing of the email is kept.
    real = actions._open_ticket
    calls = {"n": 0}

    def crash_on_the_copy(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut between two teams' tickets")
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "_open_ticket", crash_on_the_copy)
    first = _first()
    failed = pipeline.ingest(api.runtime, first, source="test")
    assert failed.status == "failed"
    assert _counts(api) == (0, 0, 1)
    monkeypatch.setattr(actions, "_open_ticket", real)
    assert failed.inbound_id is not None
    # The re-run makes both, once.
    again = pipeline.process(api.runtime, failed.inbound_id)
    assert again.status == "created"
    assert len(again.team_tickets) == 1
    assert _counts(api) == (2, 2, 1)
    # Processing the row once more, and delivering the same bytes or message again, adds nothing.
    rerun = pipeline.process(api.runtime, failed.inbound_id)
    assert (rerun.ticket_id, rerun.team_tickets) == (again.ticket_id, again.team_tickets)
    assert pipeline.ingest(api.runtime, first, source="test").status == "duplicate"
    # The copy the Sales mailbox received (another Received line: other bytes, same message).
    via_sales = b"Received: from mx.example.com by imap.example.com\r\n" + first
    assert pipeline.ingest(api.runtime, via_sales, source="imap:sales").status == "duplicate"
    assert _counts(api)[:2] == (2, 2)


def _both(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    outcome = pipeline.ingest(api.runtime, _first(), source="test")
    support = api.ok(api.get(f"/api/v1/tickets/{outcome.ticket_id}"))
    sales = api.ok(api.get(f"/api/v1/tickets/by-number/{outcome.team_tickets[0]}"))
    return support, sales


def _emails(api: Api, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    found = api.ok(api.get(f"/api/v1/tickets/{ticket['id']}/emails"))["emails"]
    return [e for e in found if e["direction"] == "inbound"]


def test_a_reply_threads_to_the_ticket_of_the_mailbox_it_was_sent_to(api: Api) -> None:
    _teams(api)
    support, sales = _both(api)
    reply = raw_mail(
        subject="Re: Invoice wrong and printer broken",
        to="sales@example.com",
        in_reply_to=FIRST_ID,
        references=[FIRST_ID],
        body="About the invoice: it should be 100 DKK.",
    )
    plan = preview(api.runtime, reply)
    outcome = pipeline.ingest(api.runtime, reply, source="test")
    assert (outcome.status, outcome.ticket_id, outcome.team_tickets) == ("linked", sales["id"], ())
    assert plan["ticket_number"] == sales["ticket_number"]
    assert outcome.reason == plan["reason"]
    assert len(_emails(api, support)) == 1
    last = _emails(api, sales)[-1]
    assert last["reason"].endswith(
        f"sent to sales@example.com (Sales), so to that team's ticket: {sales['ticket_number']}"
    )


def test_an_ambiguous_reply_goes_to_every_teams_ticket(api: Api) -> None:
    _teams(api)
    support, sales = _both(api)
    reply = raw_mail(
        subject="Re: Invoice wrong and printer broken",
        to="info@example.com",  # a mailbox of no team
        in_reply_to=FIRST_ID,
        body="Any news?",
    )
    plan = preview(api.runtime, reply)
    outcome = pipeline.ingest(api.runtime, reply, source="test")
    assert outcome.status == "linked"
    assert outcome.ticket_id == support["id"]
    assert outcome.team_tickets == (sales["ticket_number"],)
    assert [c["ticket_number"] for c in plan["team_tickets"]] == [sales["ticket_number"]]
    for ticket in (support, sales):
        last = _emails(api, ticket)[-1]
        assert "so it is ambiguous and goes to all of them" in last["reason"]
        assert last["reason"].endswith(ticket["ticket_number"])


def test_ambiguous_replies_in_a_batch_go_to_every_teams_ticket_with_one_family_read(
    api: Api,
) -> None:
    """On the bulk path the tickets a chunk's replies name are read with their `same_email`
    families at once (`intake.lookahead`): each ambiguous reply still goes to both teams'
    tickets, and the links are asked for once for the chunk, not once a reply."""
    _teams(api)
    support, sales = _both(api)
    replies = [
        raw_mail(
            subject="Re: Invoice wrong and printer broken",
            to="info@example.com",
            in_reply_to=FIRST_ID,
            message_id=f"<any-news-{n}@example.org>",
            body=f"Any news? ({n})",
        )
        for n in range(3)
    ]
    links_read: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "FROM tticket_ticket_links" in statement:
            links_read.append(statement)

    engine = api.runtime.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        sources = [Source(f"r{n}", (lambda raw=raw: raw)) for n, raw in enumerate(replies)]
        outcomes = [o for _s, o in bulk.ingest_bulk(api.runtime, sources)]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [(o.status, o.ticket_id, o.team_tickets) for o in outcomes] == [
        ("linked", support["id"], (sales["ticket_number"],))
    ] * 3
    for ticket in (support, sales):
        assert [e["email_message_id"] for e in _emails(api, ticket)[1:]] == [
            f"<any-news-{n}@example.org>" for n in range(3)
        ]
    assert len(links_read) <= 2, links_read  # the chunk's family read (and a first probe)


def test_a_reply_naming_one_ticket_stays_on_it(api: Api) -> None:
    _teams(api)
    support, sales = _both(api)
    reply = raw_mail(
        subject=f"Re: [{sales['ticket_number']}] Invoice wrong",
        to="info@example.com",  # a mailbox of no team, but the subject names Sales's ticket
        body="The invoice number is 4711.",
    )
    outcome = pipeline.ingest(api.runtime, reply, source="test")
    assert (outcome.status, outcome.ticket_id, outcome.team_tickets) == ("linked", sales["id"], ())
    assert len(_emails(api, support)) == 1
    assert _emails(api, sales)[-1]["reason"].endswith(
        "and it answers that ticket alone: " + sales["ticket_number"]
    )


def test_team_queues_show_a_teams_tickets_to_its_members_and_all_to_admins(api: Api) -> None:
    teams = _teams(api)
    support, sales = _both(api)
    loose = pipeline.ingest(
        api.runtime, raw_mail(to="info@example.com", subject="No team"), source="test"
    )
    api.login_as("sales_agent", ["agents", "Sales"])

    def listed(role: str, **params: Any) -> set[int]:
        found = api.ok(api.get("/api/v1/tickets", role, params=params))["items"]
        return {t["id"] for t in found}

    assert listed("sales_agent") == {sales["id"], loose.ticket_id}
    assert listed("admins") == {support["id"], sales["id"], loose.ticket_id}
    assert listed("admins", team_id=teams["Support"]) == {support["id"]}
    # Not a lock: a member of another team still opens the ticket by its id.
    api.ok(api.get(f"/api/v1/tickets/{support['id']}", "sales_agent"))
    # Moving the ticket to Sales puts it in the Sales queue (audited as a field change).
    moved = api.ok(
        api.patch(f"/api/v1/tickets/{support['id']}", "agents", json={"team_id": teams["Sales"]})
    )
    assert moved["team_id"] == teams["Sales"]
    assert support["id"] in listed("sales_agent")
    audit = api.ok(api.get(f"/api/v1/tickets/{support['id']}/audit"))
    changes = [e["changes"] for e in audit["items"] if e["action"] == "updated"]
    assert changes[-1]["team_id"] == [teams["Support"], teams["Sales"]]
    bad = api.patch(f"/api/v1/tickets/{support['id']}", "agents", json={"team_id": 999999})
    assert bad.status_code == 422
    assert "group 999999 does not exist" in bad.json()["detail"]


def test_a_mailbox_team_can_be_changed_and_cleared(api: Api) -> None:
    teams = _teams(api)
    boxes = api.ok(api.get("/api/v1/mailboxes"))["items"]
    info = next(b for b in boxes if b["name"] == "info")
    url = f"/api/v1/mailboxes/{info['id']}"
    assert api.ok(api.patch(url, json={"team_id": teams["Sales"]}))["team_id"] == teams["Sales"]
    made = pipeline.ingest(api.runtime, raw_mail(to="info+x@example.com"), source="test")
    assert api.ok(api.get(f"/api/v1/tickets/{made.ticket_id}"))["team_id"] == teams["Sales"]
    assert api.ok(api.patch(url, json={"team_id": None}))["team_id"] is None
    assert api.patch(url, json={"team_id": 999999}).status_code == 422
    assert api.post("/api/v1/groups", json={"name": "Sales"}).status_code == 409
    assert api.post("/api/v1/groups", "agents", json={"name": "Other"}).status_code == 403


def test_a_split_ticket_links_both_ways_and_keeps_the_team(api: Api) -> None:
    teams = _teams(api)
    outcome = pipeline.ingest(
        api.runtime,
        raw_mail(to="sales@example.com", message_id="<s1@mail.example.com>"),
        source="test",
    )
    reply = raw_mail(
        to="sales@example.com",
        subject="Re: Help with network issue",
        in_reply_to="<s1@mail.example.com>",
        body="Another matter entirely.",
    )
    pipeline.ingest(api.runtime, reply, source="test")
    ticket_id = outcome.ticket_id
    emails = api.ok(api.get(f"/api/v1/tickets/{ticket_id}/emails"))["emails"]
    later = [e["id"] for e in emails if e["is_reply"]]
    new = api.ok(
        api.post(f"/api/v1/tickets/{ticket_id}/split", "agents", json={"email_ids": later}), 201
    )
    source = api.ok(api.get(f"/api/v1/tickets/{ticket_id}"))
    assert new["team_id"] == teams["Sales"]
    assert new["linked_tickets"] == [
        {"ticket_id": ticket_id, "ticket_number": source["ticket_number"], "kind": "split"}
    ]
    assert source["linked_tickets"][0]["ticket_id"] == new["id"]


def test_a_ticket_given_to_someone_outside_its_team_is_in_their_queue(api: Api) -> None:
    """A Support ticket assigned to a Sales agent shows in that agent's lists and dashboard
    counts (they were told, and it is theirs to answer); other Sales members do not see it."""
    _teams(api)
    support, _sales = _both(api)
    api.login_as("sales_agent", ["agents", "Sales"])
    api.login_as("sales_colleague", ["agents", "Sales"])
    me = api.user_ids["sales_agent"]

    def listed(role: str, **params: Any) -> set[int]:
        found = api.ok(api.get("/api/v1/tickets", role, params=params))["items"]
        return {t["id"] for t in found}

    assert support["id"] not in listed("sales_agent")
    api.ok(api.patch(f"/api/v1/tickets/{support['id']}", json={"assigned_to_user_id": me}))
    assert support["id"] in listed("sales_agent")
    assert support["id"] in listed("sales_agent", assigned_to_user_id=me)
    assert support["id"] not in listed("sales_colleague")
    with api.runtime.db.transaction(write=False) as session:
        mine = users.principal_for(session.get(User, me))  # type: ignore[arg-type]
        theirs = users.principal_for(
            session.get(User, api.user_ids["sales_colleague"])  # type: ignore[arg-type]
        )
        assert sum(c.total for c in active_by_priority(session, mine).values()) == len(
            listed("sales_agent")
        )
        assert sum(c.total for c in active_by_priority(session, theirs).values()) == len(
            listed("sales_colleague")
        )
