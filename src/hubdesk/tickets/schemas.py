"""API shapes of tickets, comments, attachments and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from hubdesk.api.limits import (
    LIST_DESCRIPTION_CHARS,
    MAX_COMMENT_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_SUBJECT_CHARS,
    NOT_BLANK,
    CustomFields,
    Id,
    Int,
    Tags,
)
from hubdesk.api.schemas import Out, Strict
from hubdesk.db.types import utcnow
from hubdesk.sla import service as sla
from hubdesk.sla.models import SlaClock
from hubdesk.sla.schemas import SlaOut

Status = Literal[
    "open", "in_progress", "waiting_customer", "waiting_internal", "resolved", "closed"
]
Priority = Literal["low", "normal", "high", "critical"]


class TicketLinkOut(Out):
    ticket_id: int = Field(validation_alias="linked_ticket_id")
    ticket_number: str = Field(validation_alias="linked_ticket_number")
    kind: Literal["same_email", "split"]


class TicketOut(Out):
    id: int
    ticket_number: str
    subject: str
    description: str
    status: str
    priority: str
    customer_id: int | None
    contact_id: int | None
    assigned_to_user_id: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    source: str
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    merged_into_id: int | None
    version: int = Field(
        description="Bumped by every change; send it back (If-Match or `version`) when writing"
    )
    sla: SlaOut = Field(default_factory=SlaOut, validation_alias="sla_clock")
    snoozed_until: datetime | None = Field(
        default=None,
        validation_alias="snooze",
        description="Hidden from the default open list until then (PUT /tickets/{id}/snooze)",
    )
    team_id: int | None = Field(
        default=None, description="The team (a user group) whose queues show the ticket"
    )
    linked_tickets: list[TicketLinkOut] = Field(
        default_factory=list,
        validation_alias="link_rows",
        description="Tickets of the same email to other teams (`same_email`) or split off "
        "from or into this one (`split`)",
    )

    @field_validator("snoozed_until", mode="before")
    @classmethod
    def _snooze_until(cls, value: object) -> object:
        return getattr(value, "until", value)

    @field_validator("sla", mode="before")
    @classmethod
    def _sla_view(cls, value: object) -> object:
        """The ticket's SLA clock, as due times and a state at this moment."""
        if value is None or isinstance(value, SlaClock):
            return sla.view(value, utcnow())
        return value


class TicketListItem(TicketOut):
    """A ticket in a list page: its description is cut to LIST_DESCRIPTION_CHARS (ending
    in an ellipsis when cut); GET the ticket for all of it."""

    description: str = Field(max_length=LIST_DESCRIPTION_CHARS)

    @field_validator("description", mode="before")
    @classmethod
    def _cut(cls, value: object) -> object:
        if isinstance(value, str) and len(value) > LIST_DESCRIPTION_CHARS:
            return value[: LIST_DESCRIPTION_CHARS - 1] + "\u2026"
        return value


class TicketCreate(Strict):
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_CHARS, json_schema_extra=NOT_BLANK)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    status: Literal["open", "in_progress", "waiting_customer", "waiting_internal"] = "open"
    priority: Priority | None = None
    customer_id: Id | None = None
    contact_id: Id | None = None
    assigned_to_user_id: Id | None = None
    tags: Tags = Field(default_factory=list)
    custom_fields: CustomFields = Field(default_factory=dict)
    team_id: Id | None = Field(default=None, description="The team (a user group id)")


class TicketUpdate(Strict):
    subject: str | None = Field(
        default=None, min_length=1, max_length=MAX_SUBJECT_CHARS, json_schema_extra=NOT_BLANK
    )
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    status: Status | None = None
    priority: Priority | None = None
    customer_id: Id | None = None
    contact_id: Id | None = None
    assigned_to_user_id: Id | None = None
    tags: Tags | None = None
    custom_fields: CustomFields | None = None
    team_id: Id | None = Field(default=None, description="The team (a user group id); null: none")
    version: Int | None = Field(
        default=None,
        description=(
            "The version you read (or send If-Match with the ETag); a ticket changed since "
            "is refused with 409"
        ),
    )


class MergeRequest(Strict):
    target_id: Id = Field(description="The ticket this one is merged into")
    version: Int | None = Field(
        default=None, description="The version of this ticket you read (or send If-Match)"
    )


class CommentCreate(Strict):
    body: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS, json_schema_extra=NOT_BLANK)
    internal: bool = False


class CommentOut(Out):
    id: int
    ticket_id: int
    body: str
    is_internal: bool
    author_user_id: int | None
    author_contact_id: int | None
    source: str
    created_at: datetime


class AttachmentOut(Out):
    id: int
    ticket_id: int
    comment_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool
    content_id: str | None
    created_at: datetime


class AuditOut(Out):
    id: int
    actor: str
    action: str
    entity_type: str
    entity_id: int | None
    changes: dict[str, Any]
    created_at: datetime
