"""The ticket's event stream and presence at the HTTP level (both databases): the stream is
for logged-in viewers of a visible ticket, carries the page's security headers, ends by
itself; presence reports need the CSRF token and expire; the fingerprint moves with a note."""

from __future__ import annotations

from hubdesk.runtime import Runtime
from hubdesk.tickets import comments
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.ui.live import Live, Presence, fingerprint
from tests.integration.ui.client import UiClient
from tests.integration.ui.scenario import printer_ticket


def test_stream_presence_and_fingerprint(ui: UiClient, runtime: Runtime) -> None:
    made = printer_ticket(runtime)
    events = f"/tickets/{made.ticket_id}/events"
    assert ui.get(events).status_code == 303
    ui.log_in_as(["agents"], name="Agnes Agent")
    live: Live = ui.client.app.state.ui_live  # type: ignore[attr-defined]
    live.stream_seconds, live.poll_seconds = 0.3, 0.05
    # A colleague (user 999) reported straight into this process's presence.
    live.presence.report(made.ticket_id, 999, "Anna Andersen", "replying")
    response = ui.get(events)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "event: presence" in response.text
    assert "Anna Andersen is replying." in response.text
    assert ui.get("/tickets/999999/events").status_code == 404

    presence = f"/tickets/{made.ticket_id}/presence"
    assert ui.post(presence, {"state": "replying"}, csrf=False).status_code == 403
    assert ui.post(presence, {"state": "replying"}).status_code == 204
    assert [n for n, _s in live.presence.others(made.ticket_id, 999)] == ["Agnes Agent"]
    assert ui.post(presence, {"state": "left"}).status_code == 204
    assert live.presence.others(made.ticket_id, 999) == []
    assert ui.post("/tickets/999999/presence", {"state": "viewing"}).status_code == 404

    with runtime.db.transaction() as session:
        before = fingerprint(session, made.ticket_id)
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        comments.add_comment(session, SYSTEM, ticket, "a note", internal=True)
        assert fingerprint(session, made.ticket_id) != before


def test_presence_entries_expire() -> None:
    presence = Presence(ttl=0.0)
    presence.report(1, 2, "Anna", "viewing")
    assert presence.others(1, None) == []
    kept = Presence()
    kept.report(1, 2, "Bo", "viewing")
    kept.report(1, 3, "Anna", "replying")
    assert kept.others(1, 2) == [("Anna", "replying")]
    assert kept.others(1, None) == [("Anna", "replying"), ("Bo", "viewing")]
