"""`/api/v1/mailboxes`: create, list, read, change, delete; audited; passwords never shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.mailboxes.models import Mailbox
from tests.support.api import Api

BODY: dict[str, Any] = {
    "name": "support",
    "addresses": ["Support@Support.Example.com", "help@support.example.com"],
    "imap_url": "imaps://support@imap.example.com/INBOX",
    "password_env": "SUPPORT_IMAP_PASSWORD",
}


def _audit(api: Api, mailbox_id: int) -> list[tuple[str, dict[str, Any]]]:
    with api.runtime.db.transaction(write=False) as session:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "mailbox", AuditEntry.entity_id == mailbox_id)
            .order_by(AuditEntry.id)
        ).all()
        return [(row.action, row.changes) for row in rows]


def test_mailbox_lifecycle_is_audited(api: Api) -> None:
    """Create (201), list in the envelope, read, change, delete (204): every write leaves an
    audit row with what changed; addresses are stored lowercased and sorted."""
    created = api.ok(api.post("/api/v1/mailboxes", json=BODY), 201)
    mailbox_id = created["id"]
    assert created["addresses"] == ["help@support.example.com", "support@support.example.com"]
    assert (created["state"], created["processed_action"], created["last_uid"]) == (
        "unknown",
        "seen",
        0,
    )
    assert created["password_available"] is False
    listed = api.ok(api.get("/api/v1/mailboxes"))
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)
    assert listed["items"][0]["name"] == "support"
    assert api.ok(api.get(f"/api/v1/mailboxes/{mailbox_id}"))["id"] == mailbox_id
    changed = api.ok(
        api.patch(
            f"/api/v1/mailboxes/{mailbox_id}",
            json={"processed_action": "move", "processed_folder": "Done", "enabled": False},
        )
    )
    assert (changed["processed_folder"], changed["state"]) == ("Done", "disabled")
    assert api.delete(f"/api/v1/mailboxes/{mailbox_id}").status_code == 204
    assert api.get(f"/api/v1/mailboxes/{mailbox_id}").status_code == 404
    audit = _audit(api, mailbox_id)
    assert [action for action, _changes in audit] == ["created", "updated", "deleted"]
    assert audit[1][1] == {
        "enabled": [True, False],
        "processed_action": ["seen", "move"],
        "processed_folder": [None, "Done"],
    }


def test_changing_the_account_resets_the_checkpoint(api: Api) -> None:
    """UIDs of another account or folder mean nothing: a new imap_url forgets UIDVALIDITY
    and the last UID; removing imap_url also drops password_env."""
    mailbox_id = api.ok(api.post("/api/v1/mailboxes", json=BODY), 201)["id"]
    with api.runtime.db.transaction() as session:
        mailbox = session.get(Mailbox, mailbox_id)
        assert mailbox is not None
        mailbox.uidvalidity, mailbox.last_uid = 99, 42
    moved = api.ok(
        api.patch(
            f"/api/v1/mailboxes/{mailbox_id}",
            json={"imap_url": "imaps://support@imap.example.com/Support"},
        )
    )
    assert (moved["uidvalidity"], moved["last_uid"]) == (None, 0)
    plain = api.ok(api.patch(f"/api/v1/mailboxes/{mailbox_id}", json={"imap_url": None}))
    assert (plain["imap_url"], plain["password_env"]) == (None, None)


def test_invalid_mailboxes_are_refused_with_a_reason(api: Api) -> None:
    """A password inside the URL, a bad scheme, a URL urlsplit cannot read (once a 500), IMAP
    without password_env, 'move' without a folder or to a folder with a line break: 422
    naming the problem. A taken name or address: 409."""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"imap_url": "imaps://support:hunter2@imap.example.com/"}, "must not contain a password"),
        ({"imap_url": "http://imap.example.com/"}, "imaps://"),
        ({"imap_url": "imaps://support@[::1/INBOX"}, "imap_url is not a valid URL"),
        (
            {"processed_action": "move", "processed_folder": "Done\n"},
            "processed_folder is not a usable IMAP folder name",
        ),
        ({"password_env": None}, "needs password_env"),
        ({"processed_action": "move"}, "needs processed_folder"),
        ({"password_env": "hunter2 pasted here"}, "password_env must name a variable"),
        ({"addresses": ["not-an-address"]}, "not a valid e-mail address"),
    ]
    for change, reason in cases:
        response = api.post("/api/v1/mailboxes", json={**BODY, **change})
        assert response.status_code == 422, (change, response.text)
        assert reason in response.json()["detail"]
        assert "hunter2" not in response.text
    api.ok(api.post("/api/v1/mailboxes", json=BODY), 201)
    taken_name = api.post("/api/v1/mailboxes", json={**BODY, "addresses": ["x@example.com"]})
    assert taken_name.status_code == 409
    taken_address = api.post(
        "/api/v1/mailboxes", json={**BODY, "name": "other", "addresses": [BODY["addresses"][1]]}
    )
    assert taken_address.status_code == 409
    assert "received by mailbox support" in taken_address.json()["detail"]


def test_only_mailbox_managers_see_mailboxes(api: Api) -> None:
    """Reading and writing need mailboxes.manage: agents get 403 for both."""
    mailbox_id = api.ok(api.post("/api/v1/mailboxes", json=BODY), 201)["id"]
    assert api.get("/api/v1/mailboxes", "agents").status_code == 403
    assert api.get(f"/api/v1/mailboxes/{mailbox_id}", "agents").status_code == 403
    assert api.delete(f"/api/v1/mailboxes/{mailbox_id}", "agents").status_code == 403


def test_import_existing_is_an_explicit_choice_before_the_first_poll(api: Api) -> None:
    """A new IMAP mailbox takes only mail delivered from now on (`import_existing` false,
    `import_from` set); asking for the backlog is a field on create, and can be changed until
    the first poll, then it is refused with the reason. A new account starts over."""
    default = api.ok(api.post("/api/v1/mailboxes", json=BODY), 201)
    assert default["import_existing"] is False
    assert default["import_from"] is not None
    backlog = api.ok(
        api.post(
            "/api/v1/mailboxes",
            json={
                **BODY,
                "name": "archive",
                "addresses": ["archive@support.example.com"],
                "import_existing": True,
            },
        ),
        201,
    )
    assert (backlog["import_existing"], backlog["import_from"]) == (True, None)
    path = f"/api/v1/mailboxes/{default['id']}"
    assert api.ok(api.patch(path, json={"import_existing": True}))["import_existing"] is True
    with api.runtime.db.transaction() as session:
        mailbox = session.get(Mailbox, default["id"])
        assert mailbox is not None
        mailbox.uidvalidity, mailbox.last_uid = 7, 3  # polled
    refused = api.patch(path, json={"import_existing": False})
    assert refused.status_code == 422
    assert "before the first poll" in refused.json()["detail"]
    assert api.patch(path, json={"import_existing": True}).status_code == 200  # unchanged
    moved = api.ok(api.patch(path, json={"imap_url": "imaps://other@imap.example.com/INBOX"}))
    assert (moved["import_existing"], moved["last_uid"]) == (False, 0)
    assert moved["import_from"] is not None
