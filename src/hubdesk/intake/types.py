"""Values that travel down the email -> ticket pipeline (frozen; no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import Any, Final, Literal

from hubdesk.budgets import MAX_STORED_TEXT_CHARS, shorten
from hubdesk.mail.sender_auth import UNKNOWN, SenderAuth
from hubdesk.mail.types import ParsedEmail

OutcomeStatus = Literal["created", "linked", "duplicate", "ignored", "quarantined", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one inbound message; also the JSON line of `hubdesk ingest --json`."""

    status: OutcomeStatus
    inbound_id: int | None
    message_id: str | None = None
    ticket_id: int | None = None
    ticket_number: str | None = None
    reason: str = ""
    result: TicketMade | None = None
    """The result of the action that put the mail on a ticket, when one ran."""
    team_tickets: tuple[str, ...] = ()
    """The other teams' tickets the same mail opened or was added to (`intake.teams`)."""

    def as_json(self, source: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source": source,
            "message_id": self.message_id,
            "status": self.status,
            "ticket_id": self.ticket_id,
            "ticket_number": self.ticket_number,
            "reason": self.reason,
        }
        if self.team_tickets:
            data["team_tickets"] = list(self.team_tickets)
        return data


@dataclass(frozen=True, slots=True)
class Extraction:
    """Tags and priority read from the mail (the spec's Automatic Features)."""

    tags: tuple[str, ...]
    priority: str
    priority_reason: str


Decision = Literal[
    "message_id",
    "ticket_in_message_id",
    "subject_token",
    "new",
    "hint_refused",
    "reference_refused",
]


@dataclass(frozen=True, slots=True)
class SenderTrust:
    """How far the From of a mail can be believed (RELIABILITY design rule 3).

    An address alone is never a credential: the mail of an agent's address acts as that agent
    only when the address is `authentic`, that is vouched for by our receiving server
    (Authentication-Results of TRUSTED_AUTHSERV_ID) or by the channel it came over (handed in
    through the API by that same user). A `failed` sender is never trusted by hints at all.
    """

    auth: SenderAuth = UNKNOWN
    channel_vouched: str | None = None
    """Why the channel vouches for the From address, e.g. `submitted by its own user`."""

    @property
    def authentic_reason(self) -> str | None:
        if self.auth.failed:
            return None
        if self.auth.verified:
            return self.auth.reason
        return self.channel_vouched

    @property
    def failed(self) -> bool:
        return self.auth.failed


UNVERIFIED: Final = SenderTrust()


@dataclass(frozen=True, slots=True)
class ThreadDecision:
    """Where the mail belongs and why; stored in the email log with the mail."""

    decision: Decision
    reason: str
    ticket_id: int | None = None
    hinted_ticket_number: str | None = None
    """The ticket a refused hint named (recorded on the new ticket)."""
    sender_trusted: bool = False
    """The sender already takes part in the linked ticket, so the people they copy in may
    join it as well; mail from anyone else never adds watchers."""
    specific: bool = False
    """The signal names this ticket alone (one of our signed Message-IDs, a ticket number,
    or a Message-ID stored on no other ticket), not the set of tickets one email to several
    teams opened (`hubdesk.intake.teams`)."""

    @property
    def links(self) -> bool:
        return self.ticket_id is not None


@dataclass(frozen=True, slots=True)
class MailFlags:
    """What the pipeline noticed about a mail, stored with it (the ledger row and the email
    log keep `as_json()`)."""

    from_problem: str | None = None
    message_id_synthetic: bool = False
    bulk: str | bool | None = None
    """The list or bulk evidence (e.g. `List-Id`), or True."""
    message_id_collision: bool = False
    sender_not_verified: str | None = None
    sender_verified: str | None = None
    kept: tuple[tuple[str, Any], ...] = ()
    """Other facts of a ledger row this mail was reloaded from (e.g. its `result`)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> MailFlags:
        values = dict(data or {})
        return cls(
            from_problem=values.pop("from_problem", None),
            message_id_synthetic=bool(values.pop("message_id_synthetic", False)),
            bulk=values.pop("bulk", None),
            message_id_collision=bool(values.pop("message_id_collision", False)),
            sender_not_verified=values.pop("sender_not_verified", None),
            sender_verified=values.pop("sender_verified", None),
            kept=tuple(values.items()),
        )

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.from_problem:
            data["from_problem"] = self.from_problem
        if self.message_id_synthetic:
            data["message_id_synthetic"] = True
        if self.bulk is not None:
            data["bulk"] = self.bulk
        if self.message_id_collision:
            data["message_id_collision"] = True
        if self.sender_not_verified is not None:
            data["sender_not_verified"] = self.sender_not_verified
        if self.sender_verified is not None:
            data["sender_verified"] = self.sender_verified
        data.update(self.kept)
        return data


NO_FLAGS: Final = MailFlags()


@dataclass(frozen=True)
class Mail:
    """One inbound email as the actions see it: parsed facts, ledger row, decision."""

    parsed: ParsedEmail
    inbound_id: int
    received_at: datetime
    decision: ThreadDecision
    flags: MailFlags
    trust: SenderTrust = UNVERIFIED
    """How far the From can be believed; only an authentic agent address acts as the agent."""
    team_id: int | None = None
    """The team a ticket this mail opens belongs to (its mailbox's, `hubdesk.intake.teams`)."""

    @cached_property
    def body_text(self) -> str:
        """The mail's text as stored on the ticket (shortened past `MAX_STORED_TEXT_CHARS`)."""
        return shorten(self.parsed.body_text)

    @cached_property
    def body_visible(self) -> str:
        """The new part of the text as stored on the ticket, shortened the same way. (The
        parser already cuts it to its quote-scan length without a note; when that cut reaches
        the cap of a shortened text, the note is added here.)"""
        visible = self.parsed.body_visible
        if self.text_shortened and len(visible) >= MAX_STORED_TEXT_CHARS:
            return shorten(visible, full_length=len(self.parsed.body_text))
        return shorten(visible)

    @property
    def text_shortened(self) -> bool:
        return len(self.parsed.body_text) > MAX_STORED_TEXT_CHARS

    @property
    def sender(self) -> str:
        return self.parsed.from_.email if self.parsed.from_ else ""

    @property
    def sender_label(self) -> str:
        address = self.parsed.from_
        if address is None:
            return "(unknown sender)"
        return f"{address.name} <{address.email}>" if address.name else address.email


# What one step of a route did: each action returns one of these, the executor folds them
# into the run's `Progress` (no dict crosses a step boundary; `as_json` is for storage).

JsonScalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class TicketMade:
    """`create_ticket` / `link_email_to_ticket`: the mail is on this ticket."""

    ticket_id: int
    ticket_number: str
    created: bool
    linked: bool
    priority: str | None = None
    tags: tuple[str, ...] | None = None
    spec_shape: Literal["create_ticket", "link_email_to_ticket"] = "create_ticket"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ticket_id": self.ticket_id, "ticket_number": self.ticket_number}
        if self.spec_shape == "create_ticket":
            data["created"] = self.created
        data["linked"] = self.linked
        if self.priority is not None:
            data["priority"] = self.priority
        if self.tags is not None:
            data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True, slots=True)
class TicketChanged:
    """A field of the current ticket set (assign, priority, status, customer, tags)."""

    ticket_id: int
    changes: tuple[tuple[str, JsonScalar | tuple[str, ...]], ...]

    def as_json(self) -> dict[str, Any]:
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in self.changes}
        return {"ticket_id": self.ticket_id, **values}


@dataclass(frozen=True, slots=True)
class NoteAdded:
    ticket_id: int
    comment_id: int

    def as_json(self) -> dict[str, Any]:
        return {"ticket_id": self.ticket_id, "comment_id": self.comment_id}


@dataclass(frozen=True, slots=True)
class AutoReplyQueued:
    """`send_auto_reply`: queued, or suppressed by the loop defence (`reason`)."""

    ticket_id: int
    queued: bool
    outbox_id: int | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "queued": self.queued,
            "outbox_id": self.outbox_id,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Disposed:
    """`mark_spam` / `ignore`: the mail makes no ticket."""

    kind: Literal["spam", "ignored"]
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"disposition": self.kind, "reason": self.reason}


ActionResult = TicketMade | TicketChanged | NoteAdded | AutoReplyQueued | Disposed


@dataclass(frozen=True, slots=True)
class Progress:
    """What the steps of one run have done so far; later steps act on `ticket_id`."""

    ticket_id: int | None = None
    ticket_number: str | None = None
    created: bool = False
    linked: bool = False
    disposed: Disposed | None = None

    def after(self, result: ActionResult) -> Progress:
        if isinstance(result, TicketMade):
            return replace(
                self,
                ticket_id=result.ticket_id,
                ticket_number=result.ticket_number,
                created=self.created or result.created,
                linked=self.linked or not result.created,
            )
        if isinstance(result, Disposed):
            return replace(self, disposed=result)
        return self

    @property
    def made(self) -> TicketMade | None:
        """The ticket the run put the mail on, in the `create_ticket` result shape."""
        if self.ticket_id is None or self.ticket_number is None:
            return None
        return TicketMade(self.ticket_id, self.ticket_number, self.created, self.linked)
