"""A refused reply keeps what the agent typed (HTTP level, both databases): the ticket page
comes back with the text, the Cc, the ticked files and the chosen status, and says what to fix,
for every refusal the page can meet: an empty text, a bad Cc address, a file not of the
ticket, a status changed by a colleague since the page was opened (409), a permission taken
away meanwhile (403), a ticket without a contact, and files over the upload limit. Nothing is
sent or stored by a refused post; the corrected form then sends once."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.tickets import attachments
from hubdesk.tickets.models import Attachment, Comment, Ticket
from hubdesk.users import service as users
from hubdesk.users.models import User
from hubdesk.users.permissions import SYSTEM
from tests.integration.ui.client import UiClient, flash_of, text_of
from tests.integration.ui.scenario import printer_ticket
from tests.support import api as support_api

TEXT = "Dear Alice,\nthe technician comes at 10 <b>sharp</b> & brings toner."


def _counts(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.db.transaction(write=False) as session:
        mails = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
        notes = session.scalar(
            select(func.count()).select_from(Comment).where(Comment.source == "web")
        )
        files = session.scalar(select(func.count()).select_from(Attachment)) or 0
        return int(mails), int(notes or 0), int(files)


def _form_values(page: str) -> dict[str, object]:
    """What the reply form shows: its text, Cc, ticked files and chosen status."""
    form = page[page.index('id="reply-form"') :]
    form = form[: form.index("</form>")]
    body = re.search(r'<textarea id="reply-body"[^>]*>([^<]*)</textarea>', form)
    cc = re.search(r'id="reply-cc"[^>]*value="([^"]*)"', form)
    ticked = re.findall(r'name="attachment_ids" value="(\d+)" checked', form)
    status = re.search(r'<option value="([^"]*)" selected>', form)
    return {
        "body": body.group(1) if body else None,
        "cc": cc.group(1) if cc else None,
        "ticked": ticked,
        "status": status.group(1) if status else "",
    }


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _page_form(ui: UiClient, ticket_id: int) -> dict[str, str]:
    page = ui.get(f"/tickets/{ticket_id}").text
    form = page[page.index('id="reply-form"') :]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    return {k: v for k, v in hidden.items() if k != "csrf_token"}


def _file_id(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return session.scalars(
            select(Attachment.id).where(Attachment.filename == "printer-log.txt")
        ).one()


def test_each_refusal_keeps_the_text_cc_files_and_status(ui: UiClient, runtime: Runtime) -> None:
    made = printer_ticket(runtime)
    file_id = _file_id(runtime)
    ui.log_in_as(["agents"])
    base = f"/tickets/{made.ticket_id}"
    before = _counts(runtime)
    typed = {
        "body": TEXT,
        "cc": "boss@acme.example, not-an-address",
        "attachment_ids": [str(file_id)],
        "status": "in_progress",
    }
    cases = [
        (dict(typed), "Cc: not-an-address is not a plain e-mail address", 422),
        (
            {**typed, "cc": "boss@acme.example", "attachment_ids": [str(file_id), "999999"]},
            "999999",
            422,
        ),
        ({**typed, "cc": "", "body": "   "}, "body must not be empty", 422),
    ]
    for form, reason, status in cases:
        answer = ui.post(f"{base}/reply", {**_page_form(ui, made.ticket_id), **form})
        assert answer.status_code == status, (form, answer.text[:300])
        assert reason in text_of(answer.text)
        assert 'id="reply-problems"' in answer.text
        shown = _form_values(answer.text)
        assert shown["body"] == _escaped(str(form["body"]))
        assert shown["cc"] == form["cc"]
        assert shown["ticked"] == [i for i in form["attachment_ids"] if i == str(file_id)]
        assert shown["status"] == "in_progress"
        assert _counts(runtime) == before
    # Corrected, the same page's form sends once.
    fixed = {**_page_form(ui, made.ticket_id), **typed, "cc": "boss@acme.example"}
    sent = ui.post(f"{base}/reply", fixed)
    assert sent.status_code == 303
    assert flash_of(runtime, sent).kind == "ok"
    again = ui.post(f"{base}/reply", fixed)
    assert flash_of(runtime, again).text == "This form was sent already."
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_status_changed_meanwhile_refuses_the_reply_with_409(
    ui: UiClient, runtime: Runtime
) -> None:
    """The page offered "in_progress" against the status it showed; a colleague set the ticket
    to waiting for the customer through the API since. A reply that sets no status, or from a
    page whose shown status still holds, goes through."""
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    base = f"/tickets/{made.ticket_id}"
    stale = _page_form(ui, made.ticket_id)
    _uid, token = support_api.make_user(runtime, ["agents"], name="Colleague")
    changed = ui.client.patch(
        f"/api/v1{base}",
        json={"status": "waiting_customer"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.is_success
    before = _counts(runtime)
    answer = ui.post(f"{base}/reply", {**stale, "body": TEXT, "status": "in_progress"})
    assert answer.status_code == 409
    assert "changed the status of this ticket to Waiting for customer" in text_of(answer.text)
    assert _form_values(answer.text)["body"] == _escaped(TEXT)
    assert _counts(runtime) == before
    # Sent without a status, the same stale page's reply goes through.
    plain = ui.post(f"{base}/reply", {**_page_form(ui, made.ticket_id), "body": TEXT})
    assert plain.status_code == 303
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        assert ticket.status == "waiting_customer"


def test_a_permission_taken_away_keeps_the_text_to_copy(ui: UiClient, runtime: Runtime) -> None:
    made = printer_ticket(runtime)
    user_id = ui.log_in_as(["agents"])
    base = f"/tickets/{made.ticket_id}"
    form = _page_form(ui, made.ticket_id)
    with runtime.db.transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        users.update_user(session, SYSTEM, user, groups=["readonly"])
    before = _counts(runtime)
    answer = ui.post(f"{base}/reply", {**form, "body": TEXT})
    assert answer.status_code == 403
    assert "replies.send" in text_of(answer.text)
    kept = re.search(r'<textarea id="reply-kept"[^>]*readonly>([^<]*)</textarea>', answer.text)
    assert kept is not None
    assert kept.group(1) == _escaped(TEXT)
    assert _counts(runtime) == before


def test_uploads_over_the_limit_keep_the_text_and_say_to_choose_files_again(
    ui: UiClient, runtime: Runtime, monkeypatch: object
) -> None:
    made = printer_ticket(runtime)
    ui.log_in_as(["agents"])
    base = f"/tickets/{made.ticket_id}"
    before = _counts(runtime)
    assert hasattr(monkeypatch, "setattr")
    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES", 10)  # type: ignore[attr-defined]
    answer = ui.post(
        f"{base}/reply",
        {**_page_form(ui, made.ticket_id), "body": TEXT},
        files=[("files", ("big.txt", b"x" * 11, "text/plain"))],
    )
    assert answer.status_code == 422
    shown = text_of(answer.text)
    assert "big.txt is larger than the limit" in shown
    assert "choose them again" in shown
    assert _form_values(answer.text)["body"] == _escaped(TEXT)
    assert _counts(runtime) == before


def test_a_refused_public_comment_keeps_its_text(ui: UiClient, runtime: Runtime) -> None:
    made = printer_ticket(runtime)
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        ticket.contact_id = None
    user_id = ui.log_in_as(["agents"])
    base = f"/tickets/{made.ticket_id}"
    assert 'action="' + base + '/comment"' in ui.get(base).text
    with runtime.db.transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        users.update_user(session, SYSTEM, user, groups=["readonly"])
    answer = ui.post(f"{base}/comment", {"body": TEXT})
    assert answer.status_code == 403
    assert "comments.create" in text_of(answer.text)
    assert _escaped(TEXT) in answer.text
