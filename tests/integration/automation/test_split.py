"""Splitting a message off a ticket: the mail and its attachments move to a new ticket, both
tickets link each other, later replies to that message thread onto the new ticket; on both
databases, through the real pipeline and API."""

from __future__ import annotations

from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.intake import pipeline
from hubdesk.tickets.models import Attachment
from tests.support.api import Api
from tests.support.mail import raw_mail


def _thread(api: Api) -> tuple[int, list[dict[str, object]]]:
    """A ticket from a first mail, then a reply on another matter with an attachment."""
    runtime = api.runtime
    first = raw_mail(subject="Printer", message_id="<first@mail.example.com>")
    ticket_id = pipeline.ingest(runtime, first, source="test").ticket_id
    assert ticket_id is not None
    reply = raw_mail(
        subject="Re: Printer",
        body="Also: the VPN is down since this morning.",
        message_id="<vpn@mail.example.com>",
        in_reply_to="<first@mail.example.com>",
        attachments=[("vpn.log", "text/plain", b"tunnel down\n")],
    )
    assert pipeline.ingest(runtime, reply, source="test").ticket_id == ticket_id
    emails = api.ok(api.get(f"/api/v1/tickets/{ticket_id}/emails", "agents"))["emails"]
    return ticket_id, emails


def test_split_moves_the_mail_and_links_both_tickets(api: Api) -> None:
    ticket_id, emails = _thread(api)
    vpn = next(e for e in emails if e["email_message_id"] == "<vpn@mail.example.com>")
    new = api.ok(
        api.post(f"/api/v1/tickets/{ticket_id}/split", "agents", json={"email_ids": [vpn["id"]]}),
        201,
    )
    source = api.ok(api.get(f"/api/v1/tickets/{ticket_id}", "agents"))
    assert new["custom_fields"]["split_from"] == source["ticket_number"]
    assert new["subject"] == "Re: Printer"
    assert "VPN is down" in new["description"]
    moved = api.ok(api.get(f"/api/v1/tickets/{new['id']}/emails", "agents"))["emails"]
    assert [e["email_message_id"] for e in moved] == ["<vpn@mail.example.com>"]
    left = api.ok(api.get(f"/api/v1/tickets/{ticket_id}/emails", "agents"))["emails"]
    assert [e["email_message_id"] for e in left] == ["<first@mail.example.com>"]
    with api.runtime.db.transaction(write=False) as session:
        files = {a.filename: a.ticket_id for a in session.scalars(select(Attachment))}
        events = {
            (e.ticket_id, e.action): e.changes
            for e in session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(("split_off", "split_from")))
            )
        }
    assert files == {"vpn.log": new["id"]}
    assert events[(ticket_id, "split_off")]["split_to"][1] == new["ticket_number"]
    assert events[(new["id"], "split_from")]["split_from"][1] == source["ticket_number"]
    # A later reply to the moved message threads onto the new ticket.
    later = raw_mail(
        subject="Re: Printer",
        body="VPN still down.",
        in_reply_to="<vpn@mail.example.com>",
        references=["<first@mail.example.com>", "<vpn@mail.example.com>"],
    )
    assert pipeline.ingest(api.runtime, later, source="test").ticket_id == new["id"]


def test_split_refuses_what_it_cannot_do(api: Api) -> None:
    ticket_id, emails = _thread(api)
    first = next(e for e in emails if e["email_message_id"] == "<first@mail.example.com>")
    vpn = next(e for e in emails if e["email_message_id"] == "<vpn@mail.example.com>")
    url = f"/api/v1/tickets/{ticket_id}/split"
    for body, status, says in (
        ({"email_ids": [first["id"]]}, 422, "split off later messages"),
        ({"email_ids": [999999]}, 422, "999999 is not a message of ticket"),
        ({"email_ids": []}, 422, "email_ids"),
        ({"email_ids": [vpn["id"]], "version": 1}, 409, ""),
    ):
        response = api.post(url, "agents", json=body)
        assert response.status_code == status, response.text
        assert says in response.json()["detail"]
    # Nothing moved.
    left = api.ok(api.get(f"/api/v1/tickets/{ticket_id}/emails", "agents"))["emails"]
    assert len(left) == 2
