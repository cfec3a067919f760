"""Values that travel down the email -> ticket pipeline (frozen; no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

from hubdesk.mail.sender_auth import UNKNOWN, SenderAuth

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
    result: dict[str, Any] = field(default_factory=dict)
    """The action result (`create_ticket` / `link_email_to_ticket` shape) when one ran."""

    def as_json(self, source: str) -> dict[str, Any]:
        return {
            "source": source,
            "message_id": self.message_id,
            "status": self.status,
            "ticket_id": self.ticket_id,
            "ticket_number": self.ticket_number,
            "reason": self.reason,
        }


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

    @property
    def links(self) -> bool:
        return self.ticket_id is not None
