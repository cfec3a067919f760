"""The details form clears fields, writes only what the agent changed, and never overwrites a
colleague's save (optimistic concurrency), on both databases; the API's ETag/If-Match too."""

from __future__ import annotations

import re

from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.tickets.service import set_tags
from tests.integration.ui.client import UiClient, flash_of, make_user, text_of
from tests.integration.ui.scenario import printer_ticket
from tests.support import api as support_api
from tests.support import factories

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _details_form(page: str) -> dict[str, str]:
    """What a browser posts for the details form when nothing is touched."""
    form = page[
        page.index('id="details-form"') : page.index("</form>", page.index('id="details-form"'))
    ]
    fields = dict(_HIDDEN.findall(form))
    for name in ("subject", "tags"):
        found = re.search(rf'name="{name}" value="([^"]*)"', form)
        assert found is not None, name
        fields[name] = found.group(1)
    for name in ("status", "priority", "customer_id", "contact_id", "assigned_to_user_id"):
        select_html = form[form.index(f'name="{name}"') :]
        select_html = select_html[: select_html.index("</select>")]
        chosen = re.search(r'<option value="([^"]*)" selected>', select_html)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


def _assigned_tagged_ticket(ui: UiClient, runtime: Runtime) -> tuple[int, int]:
    """The printer ticket with an assignee, tags, customer and contact; (ticket id, user id)."""
    made = printer_ticket(runtime)
    user_id, _email = make_user(runtime, ["agents"], name="Bo Colleague")
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        ticket.assigned_to_user_id = user_id
        set_tags(ticket, ["printer", "floor3"])
        assert ticket.customer_id is not None
        assert ticket.contact_id is not None
    return made.ticket_id, user_id


def test_the_form_clears_assignee_tags_customer_and_contact(ui: UiClient, runtime: Runtime) -> None:
    """Choosing "Nobody", "No customer", "No contact" and emptying Tags saves those fields as
    empty (before, an empty value read as "not sent" and the page said "Nothing changed")."""
    ticket_id, _user = _assigned_tagged_ticket(ui, runtime)
    ui.log_in_as(["agents"])
    form = _details_form(ui.get(f"/tickets/{ticket_id}").text)
    assert form["assigned_to_user_id"]
    assert form["tags"]
    assert form["customer_id"]
    form.update(assigned_to_user_id="", tags="", customer_id="", contact_id="")
    answer = ui.post(f"/tickets/{ticket_id}/edit", form)
    assert flash_of(runtime, answer).text == "Ticket saved."
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.assigned_to_user_id is None
        assert ticket.tags == []
        assert (ticket.customer_id, ticket.contact_id) == (None, None)


def test_an_untouched_form_changes_nothing(ui: UiClient, runtime: Runtime) -> None:
    ticket_id, _user = _assigned_tagged_ticket(ui, runtime)
    ui.log_in_as(["agents"])
    form = _details_form(ui.get(f"/tickets/{ticket_id}").text)
    answer = ui.post(f"/tickets/{ticket_id}/edit", form)
    assert flash_of(runtime, answer).text == "Nothing changed."


def test_a_stale_page_does_not_overwrite_a_colleagues_api_change(
    ui: UiClient, runtime: Runtime
) -> None:
    """The page is read; a colleague sets status and priority through the API; the agent then
    adds a tag on the old page. Nothing of the agent's is saved: a 409 page shows the
    colleague's values next to the agent's, and its button re-applies only the tag, keeping
    the colleague's status and priority."""
    ticket_id, _user = _assigned_tagged_ticket(ui, runtime)
    ui.log_in_as(["agents"])
    form = _details_form(ui.get(f"/tickets/{ticket_id}").text)
    _uid, token = support_api.make_user(runtime, ["agents"], name="Colleague")
    changed = ui.client.patch(
        f"/api/v1/tickets/{ticket_id}",
        json={"status": "in_progress", "priority": "high"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200, changed.text

    form["tags"] = form["tags"] + ", urgent"
    stale = ui.post(f"/tickets/{ticket_id}/edit", form)
    assert stale.status_code == 409
    shown = text_of(stale.text)
    assert "was changed while you edited it" in shown
    assert "Status Open In progress unchanged" in shown
    assert "Priority Normal High unchanged" in shown
    assert "Tags printer, floor3 printer, floor3 printer, floor3, urgent" in shown
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.tags == ["printer", "floor3"]

    reapply = stale.text[stale.text.index('id="reapply-form"') :]
    again = dict(_HIDDEN.findall(reapply[: reapply.index("</form>")]))
    assert "status" not in again
    assert "priority" not in again
    saved = ui.post(f"/tickets/{ticket_id}/edit", again)
    assert flash_of(runtime, saved).text == "Ticket saved."
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.status, ticket.priority) == ("in_progress", "high")
        assert ticket.tags == ["printer", "floor3", "urgent"]
        last = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "updated").order_by(AuditEntry.id.desc())
        ).first()
        assert last is not None
        assert set(last.changes) == {"tags"}


def test_api_etag_and_if_match(ui: UiClient, runtime: Runtime) -> None:
    """GET gives the version as ETag (and `version` in the JSON); a PATCH with that If-Match
    passes and moves the version on; the same If-Match again is a 409 that says why, and so
    is a stale `version` field; the write was not made."""
    made = printer_ticket(runtime)
    _uid, token = support_api.make_user(runtime, ["agents"], name="Api Agent")
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/tickets/{made.ticket_id}"
    read = ui.client.get(url, headers=auth)
    version = read.json()["version"]
    assert read.headers["etag"] == f'"{version}"'
    first = ui.client.patch(
        url, json={"priority": "high"}, headers={**auth, "If-Match": f'"{version}"'}
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == version + 1
    assert first.headers["etag"] == f'"{version + 1}"'
    stale = ui.client.patch(
        url, json={"priority": "low"}, headers={**auth, "If-Match": f'"{version}"'}
    )
    assert stale.status_code == 409
    assert "changed by someone else since you read it" in stale.json()["detail"]
    stale_field = ui.client.patch(url, json={"priority": "low", "version": version}, headers=auth)
    assert stale_field.status_code == 409
    merged = ui.client.post(
        f"{url}/merge", json={"target_id": made.ticket_id + 999, "version": version}, headers=auth
    )
    assert merged.status_code in (404, 409)
    deleted = ui.client.delete(url, headers={**auth, "If-Match": f'"{version}"'})
    assert deleted.status_code in (403, 409)
    assert ui.client.get(url, headers=auth).json()["priority"] == "high"
    bad = ui.client.patch(url, json={"priority": "low"}, headers={**auth, "If-Match": "yesterday"})
    assert bad.status_code == 422


def test_a_stale_merge_form_merges_nothing(ui: UiClient, runtime: Runtime) -> None:
    """The merge form carries the version it was rendered from; after a colleague's change
    it goes back with the reason and the ticket stays unmerged."""
    made = printer_ticket(runtime)
    with runtime.db.transaction() as session:
        other = factories.ticket(session, "Printer again")
        other_id = other.id
    ui.log_in_as(["agents"])
    page = ui.get(f"/tickets/{other_id}").text
    merge_form = page[page.index(f'action="/tickets/{other_id}/merge"') :]
    version = re.search(r'name="version" value="(\d+)"', merge_form)
    assert version is not None
    _uid, token = support_api.make_user(runtime, ["agents"], name="Colleague")
    changed = ui.client.patch(
        f"/api/v1/tickets/{other_id}",
        json={"priority": "high"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200
    answer = ui.post(
        f"/tickets/{other_id}/merge",
        {"target": made.ticket_number, "version": version.group(1)},
    )
    assert "changed by someone else since you read it" in flash_of(runtime, answer).text
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, other_id)
        assert ticket is not None
        assert ticket.merged_into_id is None
