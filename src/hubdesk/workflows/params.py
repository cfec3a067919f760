"""The typed parameters of every workflow action (pure pydantic models, no I/O).

The action registry (`hubdesk.intake.registry`) pairs each model with its handler; a workflow's
stored steps are read into these models once, by the planner, and handlers receive them typed.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from hubdesk.api.limits import MAX_TAGS_PER_TICKET, Id, Tag

Priority = Literal["low", "normal", "high", "critical"]
Status = Literal[
    "open", "in_progress", "waiting_customer", "waiting_internal", "resolved", "closed"
]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CreateTicket(Params):
    """Smart routing: link a reply to its ticket, else open a ticket."""

    customer_id: Id | None = None
    assigned_to_user_id: Id | None = None
    priority: Priority | None = None


class LinkEmailToTicket(Params):
    """Add the email to this ticket."""

    ticket_number: str


class AssignTicket(Params):
    """Assign the current ticket."""

    assigned_to_user_id: Id


class SetPriority(Params):
    priority: Priority


class SetStatus(Params):
    status: Status


class AddTags(Params):
    tags: list[Tag] = Field(min_length=1, max_length=MAX_TAGS_PER_TICKET)


class SetCustomer(Params):
    customer_id: Id


class AddInternalNote(Params):
    body: str = Field(min_length=1, max_length=10_000)


class SendAutoReply(Params):
    """Queue the auto-reply template (carrying the ticket number) to the sender."""

    template: str = "auto_reply"
    language: Literal["auto", "da", "en"] = "auto"


class MarkSpam(Params):
    """Record the email as spam: no ticket, visible and releasable by an agent."""

    reason: str = "marked as spam by a workflow"


class Ignore(Params):
    """Record the email as ignored with a reason."""

    reason: str = "ignored by a workflow"


ACTION_PARAMS: Final[dict[str, type[Params]]] = {
    "create_ticket": CreateTicket,
    "link_email_to_ticket": LinkEmailToTicket,
    "assign_ticket": AssignTicket,
    "set_priority": SetPriority,
    "set_status": SetStatus,
    "add_tags": AddTags,
    "set_customer": SetCustomer,
    "add_internal_note": AddInternalNote,
    "send_auto_reply": SendAutoReply,
    "mark_spam": MarkSpam,
    "ignore": Ignore,
}
