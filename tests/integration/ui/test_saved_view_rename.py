"""Renaming a saved view on the ticket list (HTTP level, both databases): through the same
service as `PATCH /api/v1/saved-views/{id}`, audited; an empty or taken name goes back with
the name as typed in the open rename field; a colleague's personal view cannot be renamed
(403) and a view deleted meanwhile is the 404 page; delete still works after a rename."""

from __future__ import annotations

from sqlalchemy import select

from hubdesk.audit.models import AuditEntry
from hubdesk.runtime import Runtime
from hubdesk.savedviews import service
from hubdesk.savedviews.models import SavedView
from hubdesk.users import service as users
from hubdesk.users.models import User
from tests.integration.ui.client import UiClient, flash_of, make_user


def _view(runtime: Runtime, user_id: int, name: str, *, shared: bool = False) -> int:
    with runtime.db.transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        view = service.create(
            session, users.principal_for(user), name, {"priority": "high"}, shared
        )
        return view.id


def _names(runtime: Runtime) -> list[str]:
    with runtime.db.transaction(write=False) as session:
        return list(session.scalars(select(SavedView.name).order_by(SavedView.id)))


def test_rename_refusals_keep_the_name_and_success_is_audited(
    ui: UiClient, runtime: Runtime
) -> None:
    me = ui.log_in_as(["agents"])
    first = _view(runtime, me, "Hot")
    _view(runtime, me, "Cold")
    blank = ui.post(f"/tickets/views/{first}/rename", {"name": "   "})
    assert flash_of(runtime, blank).text == "Give the view a name."
    assert blank.headers["location"].startswith(f"/tickets?rename={first}&rename_as=")
    taken = ui.post(f"/tickets/views/{first}/rename", {"name": " Cold "})
    assert flash_of(runtime, taken).text == "You already have a view called Cold."
    page = ui.get(taken.headers["location"]).text
    assert '<details class="view-rename" open>' in page
    assert f'id="view-name-{first}" name="name" required maxlength="100" value=" Cold "' in page
    too_long = ui.post(f"/tickets/views/{first}/rename", {"name": "x" * 101})
    assert flash_of(runtime, too_long).text == "A view's name has at most 100 characters."
    assert _names(runtime) == ["Hot", "Cold"]
    same = ui.post(f"/tickets/views/{first}/rename", {"name": "Hot"})
    assert flash_of(runtime, same).text == "Nothing changed."
    done = ui.post(f"/tickets/views/{first}/rename", {"name": "Very  hot"})
    assert flash_of(runtime, done).text == "View Hot renamed to Very hot."
    assert done.headers["location"].endswith(f"view={first}")
    assert _names(runtime) == ["Very hot", "Cold"]
    with runtime.db.transaction(write=False) as session:
        rows = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == "saved_view", AuditEntry.action == "saved_view_changed"
            )
        ).all()
        assert [(r.entity_id, r.actor_user_id, r.changes) for r in rows] == [
            (first, me, {"name": ["Hot", "Very hot"]})
        ]
    deleted = ui.post(f"/tickets/views/{first}/delete", {"back": "/tickets"})
    assert flash_of(runtime, deleted).text == "View Very hot deleted."
    assert _names(runtime) == ["Cold"]
    gone = ui.post(f"/tickets/views/{first}/rename", {"name": "Again"})
    assert gone.status_code == 404


def test_a_colleagues_view_cannot_be_renamed(ui: UiClient, runtime: Runtime) -> None:
    """A colleague's personal view is not even there (404); a shared view an agent without
    `views.share` sees is offered no rename and refused one (403)."""
    other, _email = make_user(runtime, ["agents"], name="Olga Other")
    boss, _boss_email = make_user(runtime, ["admins"], name="Boss")
    theirs = _view(runtime, other, "Olga's")
    shared = _view(runtime, boss, "Everyone's", shared=True)
    ui.log_in_as(["agents"])
    page = ui.get("/tickets").text
    assert "Everyone&#39;s" in page
    assert "/rename" not in page
    assert ui.post(f"/tickets/views/{theirs}/rename", {"name": "Mine"}).status_code == 404
    assert ui.post(f"/tickets/views/{shared}/rename", {"name": "Mine"}).status_code == 403
    assert _names(runtime) == ["Olga's", "Everyone's"]
