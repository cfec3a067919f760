"""API shapes of users, groups and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from hubdesk.api.limits import MAX_LIST_ITEMS, NOT_BLANK, EmailAddress, Id, Language
from hubdesk.api.schemas import Out, Strict
from hubdesk.users.models import Group, User


class UserOut(Out):
    id: int
    email: str
    name: str
    groups: list[str]
    active: bool
    available: bool = True

    @field_validator("groups", mode="before")
    @classmethod
    def _group_names(cls, value: object) -> object:
        if isinstance(value, list) and value and isinstance(value[0], Group):
            return [g.name for g in value]
        return value


class MeOut(UserOut):
    permissions: list[str]
    language: str
    notify_by_email: bool
    notify_on_assigned: bool = True
    notify_on_customer_reply: bool = True
    notify_on_mention: bool = True
    notify_on_sla: bool = True
    signature: str | None = None


class UserCreate(Strict):
    email: EmailAddress
    name: str = Field(min_length=1, max_length=200, json_schema_extra=NOT_BLANK)
    password: str | None = Field(default=None, min_length=10, max_length=1000)
    groups: list[str] = Field(
        default_factory=list,
        max_length=MAX_LIST_ITEMS,
        description="Groups of the new user; none by default (no permissions until one is added)",
    )
    language: Language = "en"


class GroupCreate(Strict):
    name: str = Field(min_length=1, max_length=100, json_schema_extra=NOT_BLANK)
    description: str = Field(default="", max_length=500)


class UserUpdate(Strict):
    name: str | None = Field(default=None, max_length=200)
    active: bool | None = None
    groups: list[str] | None = Field(default=None, max_length=MAX_LIST_ITEMS)
    password: str | None = Field(default=None, min_length=10, max_length=1000)
    current_password: str | None = Field(
        default=None,
        max_length=1000,
        description="Required with `password` when changing one's own password",
    )
    language: Language | None = None
    notify_by_email: bool | None = None
    notify_on_assigned: bool | None = None
    notify_on_customer_reply: bool | None = None
    notify_on_mention: bool | None = None
    notify_on_sla: bool | None = None
    signature: str | None = Field(
        default=None,
        max_length=2000,
        description="Appended to your replies in the UI; an empty string removes it",
    )
    available: bool | None = Field(
        default=None,
        description="Takes automatically assigned tickets (an agent may set their own)",
    )


class GroupOut(Out):
    id: int
    name: str
    description: str
    permissions: list[str]

    @field_validator("permissions", mode="before")
    @classmethod
    def _codes(cls, value: object) -> object:
        if isinstance(value, list):
            return [getattr(p, "code", p) for p in value]
        return value


class TokenCreate(Strict):
    user_id: Id | None = Field(default=None, description="Defaults to the caller")
    name: str = Field(default="", max_length=200)
    expires_at: datetime | None = None


class TokenOut(Out):
    id: int
    user_id: int
    name: str
    token_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown once, store it now")


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user)
