"""Users and API tokens: the user shape, tokens stored only as hashes, listed with their last
use, and refused once revoked, expired, or owned by an inactive user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from hubdesk.db.uow import Database
from hubdesk.models import Base
from hubdesk.users.models import User
from hubdesk.users.secrets import verify_password
from tests.support.api import Api

USER_KEYS = {"id", "email", "name", "groups", "active", "available"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _me(api: Api, token: str) -> int:
    return int(api.client.get("/api/v1/users/me", headers=_bearer(token)).status_code)


def _all_stored_text(db: Database) -> str:
    """Every value of every table, as text: where a leaked secret would show up."""
    parts: list[str] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_user_shape_and_creation_rules(api: Api) -> None:
    """Users answer exactly id, email, name, groups and active; e-mails are unique
    case-insensitively (409); an unknown group answers 422 naming the known ones."""
    created = api.post(
        "/api/v1/users",
        json={"email": "Anna@Example.COM", "name": "Anna", "groups": ["agents", "readonly"]},
    )
    assert created.status_code == 201
    user = created.json()
    assert set(user) == USER_KEYS
    assert (user["email"], user["groups"], user["active"]) == (
        "anna@example.com",
        ["agents", "readonly"],
        True,
    )
    listed = api.ok(api.get("/api/v1/users", "readonly"))
    assert set(listed) == {"items", "total", "limit", "offset", "total_is_lower_bound"}
    assert all(set(item) == USER_KEYS for item in listed["items"])
    assert user in listed["items"]
    duplicate = api.post("/api/v1/users", json={"email": "anna@EXAMPLE.com", "name": "Other"})
    assert duplicate.status_code == 409
    unknown = api.post(
        "/api/v1/users", json={"email": "b@example.com", "name": "B", "groups": ["gods"]}
    )
    assert unknown.status_code == 422
    assert "gods" in unknown.json()["detail"]
    assert "agents" in unknown.json()["detail"]
    bad_email = api.post("/api/v1/users", json={"email": "not an address", "name": "C"})
    assert bad_email.status_code == 422
    short = api.post(
        "/api/v1/users", json={"email": "c@example.com", "name": "C", "password": "short"}
    )
    assert short.status_code == 422


def test_token_secret_is_shown_once_and_stored_only_hashed(api: Api) -> None:
    """Creating a token answers its secret once; the secret appears nowhere in the database
    (only its hash and a short prefix), and it authenticates its owner."""
    created = api.ok(api.post("/api/v1/tokens", "agents", json={"name": "laptop"}), 201)
    secret = created["token"]
    assert secret.startswith(created["token_prefix"])
    assert len(secret) >= 40
    assert secret not in _all_stored_text(api.runtime.db)
    assert secret not in api.ok(api.get("/api/v1/tokens", "agents")).__repr__()
    me = api.client.get("/api/v1/users/me", headers=_bearer(secret))
    assert me.status_code == 200
    assert me.json()["id"] == api.user_ids["agents"]


def test_tokens_are_listed_with_their_last_use(api: Api) -> None:
    """The token list shows each token's last use once it has been used; a user sees only
    their own tokens, an admin everyone's."""
    created = api.ok(api.post("/api/v1/tokens", "agents", json={"name": "script"}), 201)
    mine = {t["id"]: t for t in api.ok(api.get("/api/v1/tokens", "agents"))["items"]}
    assert mine[created["id"]]["last_used_at"] is None
    assert _me(api, created["token"]) == 200
    mine = {t["id"]: t for t in api.ok(api.get("/api/v1/tokens", "agents"))["items"]}
    assert mine[created["id"]]["last_used_at"] is not None
    assert {t["user_id"] for t in mine.values()} == {api.user_ids["agents"]}
    api.login_as("readonly")
    everyone = api.ok(api.get("/api/v1/tokens"))["items"]
    assert {api.user_ids["agents"], api.user_ids["readonly"]} <= {t["user_id"] for t in everyone}


def test_revoked_token_is_refused(api: Api) -> None:
    """A revoked token answers 401; revoking someone else's token without users.manage is a
    404 (it is not theirs to see), and an admin may revoke it."""
    created = api.ok(api.post("/api/v1/tokens", "agents", json={"name": "old"}), 201)
    assert api.delete(f"/api/v1/tokens/{created['id']}", "readonly").status_code == 404
    assert _me(api, created["token"]) == 200
    api.ok(api.delete(f"/api/v1/tokens/{created['id']}", "agents"), 204)
    assert _me(api, created["token"]) == 401
    listed = {t["id"]: t for t in api.ok(api.get("/api/v1/tokens", "agents"))["items"]}
    assert listed[created["id"]]["revoked_at"] is not None
    other = api.ok(api.post("/api/v1/tokens", "readonly", json={}), 201)
    api.ok(api.delete(f"/api/v1/tokens/{other['id']}"), 204)
    assert _me(api, other["token"]) == 401


def test_expired_token_is_refused(api: Api) -> None:
    """A token with an expiry works until then and answers 401 after it; an expiry in the
    past cannot be set."""
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = api.ok(api.post("/api/v1/tokens", "agents", json={"expires_at": soon}), 201)
    assert created["expires_at"] is not None
    assert _me(api, created["token"]) == 200
    with api.runtime.db.transaction() as session:
        session.execute(
            sa.text("UPDATE api_tokens SET expires_at = :past WHERE id = :id"),
            {"past": datetime.now(UTC) - timedelta(seconds=1), "id": created["id"]},
        )
    assert _me(api, created["token"]) == 401
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert api.post("/api/v1/tokens", "agents", json={"expires_at": past}).status_code == 422


def test_inactive_users_tokens_are_refused(api: Api) -> None:
    """Deactivating a user makes all their tokens answer 401; reactivating restores them."""
    token = api.login_as("agents")
    user_id = api.user_ids["agents"]
    assert _me(api, token) == 200
    api.ok(api.patch(f"/api/v1/users/{user_id}", json={"active": False}))
    assert _me(api, token) == 401
    api.ok(api.patch(f"/api/v1/users/{user_id}", json={"active": True}))
    assert _me(api, token) == 200


def test_users_may_rename_themselves_but_not_change_their_groups(api: Api) -> None:
    """A user without users.manage may change their own name but not their groups or active
    flag (403), nor anyone else (403)."""
    api.login_as("agents")
    api.login_as("readonly")
    me = api.user_ids["readonly"]
    renamed = api.ok(api.patch(f"/api/v1/users/{me}", "readonly", json={"name": "Rita"}))
    assert renamed["name"] == "Rita"
    for body in ({"groups": ["admins"]}, {"active": False}):
        assert api.patch(f"/api/v1/users/{me}", "readonly", json=body).status_code == 403
    other = api.user_ids["agents"]
    assert api.patch(f"/api/v1/users/{other}", "readonly", json={"name": "X"}).status_code == 403
    assert api.ok(api.get(f"/api/v1/users/{me}"))["groups"] == ["readonly"]


def test_a_user_created_without_groups_has_none_and_no_permissions(api: Api) -> None:
    """Without `groups` a new user is in no group (not an agent): its token can read nothing
    until an admin adds a group."""
    created = api.ok(api.post("/api/v1/users", json={"email": "new@example.com", "name": "N"}), 201)
    assert created["groups"] == []
    token = api.ok(api.post("/api/v1/tokens", json={"user_id": created["id"]}), 201)["token"]
    me = api.client.get("/api/v1/users/me", headers=_bearer(token)).json()
    assert me["permissions"] == []
    assert api.client.get("/api/v1/tickets", headers=_bearer(token)).status_code == 403
    api.ok(api.patch(f"/api/v1/users/{created['id']}", json={"groups": ["agents"]}))
    assert api.client.get("/api/v1/tickets", headers=_bearer(token)).status_code == 200


def test_changing_ones_own_password_needs_the_current_one(api: Api) -> None:
    """PATCH /users/{self} with a new password and no or a wrong `current_password` is a 422
    naming the field, and the password stays; with the right one it changes. An admin sets
    another user's password without knowing it."""
    made = api.ok(
        api.post(
            "/api/v1/users",
            json={
                "email": "self@example.com",
                "name": "Self",
                "groups": ["agents"],
                "password": "the first password",
            },
        ),
        201,
    )
    token = api.ok(api.post("/api/v1/tokens", json={"user_id": made["id"]}), 201)["token"]
    url = f"/api/v1/users/{made['id']}"

    def change(body: dict[str, str]) -> Any:
        return api.client.patch(url, json=body, headers=_bearer(token))

    def stored_hash() -> str | None:
        with api.runtime.db.transaction(write=False) as session:
            return session.get(User, made["id"]).password_hash  # type: ignore[union-attr]

    for body, needle in (
        ({"password": "a new password!"}, "current_password is required"),
        (
            {"password": "a new password!", "current_password": "not the password"},
            "current_password is not",
        ),
    ):
        response = change(body)
        assert response.status_code == 422, response.text
        assert needle in response.json()["detail"]
    assert verify_password(stored_hash(), "the first password")
    api.ok(change({"password": "a new password!", "current_password": "the first password"}))
    assert verify_password(stored_hash(), "a new password!")
    api.ok(api.patch(url, json={"password": "set by the admin"}))
    assert verify_password(stored_hash(), "set by the admin")
