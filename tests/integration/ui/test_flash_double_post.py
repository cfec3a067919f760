"""A double click must not lose the result message (both databases).

The browser abandons the first post's page load when the second post starts, but the
abandoned load's answer still arrives and deletes the message cookie it carried. Found in
CI: the bulk page's double click on Confirm showed the list without any result. Each message
has a cookie of its own, and a page deletes only the ones its request carried.
"""

from __future__ import annotations

from hubdesk.runtime import Runtime
from tests.integration.ui.client import UiClient, text_of
from tests.integration.ui.scenario import printer_ticket


def test_the_abandoned_page_load_does_not_eat_the_second_posts_message(
    ui: UiClient, runtime: Runtime
) -> None:
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    ui.get("/tickets")
    close = {"action": "close", "ids": [str(made.ticket_id)], "confirmed": "1"}
    first = ui.post("/tickets/bulk", close)
    assert first.status_code == 303
    carried_by_first_load = "; ".join(f"{k}={v}" for k, v in ui.client.cookies.items())
    second = ui.post("/tickets/bulk", close)
    assert second.status_code == 303

    # The first post's page load, sent before the second post and answered after it.
    abandoned = ui.get("/tickets", headers={"Cookie": carried_by_first_load})
    assert "Changed 1 ticket" in text_of(abandoned.text)

    page = ui.get("/tickets").text
    shown = text_of(page)
    assert "No ticket was changed." in shown
    assert "(already so)" in shown
    assert "Changed 1 ticket" not in shown
    # what was asked holds: a status, as the first post's, not an alert
    assert '<div class="flash flash-ok" role="status">No ticket was changed.' in page
    # Shown once: the next page has no message left.
    again = text_of(ui.get("/tickets").text)
    assert "No ticket was changed." not in again
