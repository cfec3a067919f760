"""Driving the real application in-process: users with tokens per group, JSON helpers."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.users.permissions import SYSTEM


def make_user(
    runtime: Runtime,
    groups: Sequence[str],
    *,
    email: str | None = None,
    name: str = "Test User",
    password: str | None = None,
) -> tuple[int, str]:
    """Create a user in `groups` with an API token; returns (user id, token). API tests need
    no password (and skip the deliberately slow argon2 hash); UI tests pass one."""
    address = email or f"user-{secrets.token_hex(4)}@agents.example.com"
    with runtime.db.transaction() as session:
        user = users.create_user(
            session, SYSTEM, email=address, name=name, password=password, groups=groups
        )
        _token, secret = users.create_token(session, SYSTEM, user, name="test")
        return user.id, secret


@dataclass
class Api:
    """A TestClient plus tokens for an admin, an agent and a read-only user."""

    client: TestClient
    runtime: Runtime
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    def login_as(self, role: str, groups: Sequence[str] | None = None) -> str:
        if role not in self.tokens:
            user_id, token = make_user(
                self.runtime, groups if groups is not None else [role], name=role.title()
            )
            self.tokens[role] = token
            self.user_ids[role] = user_id
        return self.tokens[role]

    def headers(self, role: str = "admins") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login_as(role)}"}

    def get(self, path: str, role: str = "admins", **kwargs: Any) -> Any:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.get(path, headers=headers, **kwargs)

    def post(self, path: str, role: str = "admins", **kwargs: Any) -> Any:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)

    def patch(self, path: str, role: str = "admins", **kwargs: Any) -> Any:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.patch(path, headers=headers, **kwargs)

    def put(self, path: str, role: str = "admins", **kwargs: Any) -> Any:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.put(path, headers=headers, **kwargs)

    def delete(self, path: str, role: str = "admins", **kwargs: Any) -> Any:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.delete(path, headers=headers, **kwargs)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None
