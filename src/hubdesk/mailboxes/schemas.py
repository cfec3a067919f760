"""API shapes of mailboxes. A password never appears: only the name of the variable that
holds it, and whether this process can find it."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import Field
from pydantic.config import JsonDict

from hubdesk.api.limits import (
    END,
    SECRET_NAME_PATTERN,
    SPACE,
    SPACE_CHARS,
    EmailAddress,
    Id,
)
from hubdesk.api.schemas import Out, Strict
from hubdesk.config import Settings
from hubdesk.mailboxes import secrets
from hubdesk.mailboxes.models import Mailbox

ProcessedAction = Literal["seen", "move", "delete"]
OversizedAction = Literal["leave", "move"]


class MailboxOut(Out):
    id: int
    name: str
    enabled: bool
    addresses: list[str]
    imap_url: str | None
    password_env: str | None
    password_available: bool | None
    """Whether the named secret is set where this server process looks (None without IMAP)."""
    processed_action: str
    processed_folder: str | None
    oversized_action: str
    oversized_folder: str | None
    state: str
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    uidvalidity: int | None
    last_uid: int
    import_existing: bool
    """Whether the first poll imports the mail the folder held already (False: only mail
    delivered from `import_from` on)."""
    import_from: datetime | None
    lease_holder: str | None
    lease_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    team_id: int | None = Field(
        default=None,
        description="The team (a user group) whose tickets this mailbox's mail opens",
    )

    @classmethod
    def of(cls, mailbox: Mailbox, settings: Settings) -> MailboxOut:
        available = (
            secrets.is_available(mailbox.password_env, settings)
            if mailbox.password_env is not None
            else None
        )
        return cls(
            id=mailbox.id,
            name=mailbox.name,
            enabled=mailbox.enabled,
            addresses=mailbox.addresses,
            imap_url=mailbox.imap_url,
            password_env=mailbox.password_env,
            password_available=available,
            processed_action=mailbox.processed_action,
            processed_folder=mailbox.processed_folder,
            oversized_action=mailbox.oversized_action,
            oversized_folder=mailbox.oversized_folder,
            state=mailbox.state,
            last_error=mailbox.last_error,
            last_error_at=mailbox.last_error_at,
            last_success_at=mailbox.last_success_at,
            uidvalidity=mailbox.uidvalidity,
            last_uid=mailbox.last_uid,
            import_existing=mailbox.import_from is None,
            import_from=mailbox.import_from,
            lease_holder=mailbox.lease_holder,
            lease_expires_at=mailbox.lease_expires_at,
            created_at=mailbox.created_at,
            updated_at=mailbox.updated_at,
            team_id=mailbox.team_id,
        )


IMAP_URL: Final[JsonDict] = {"pattern": rf"^{SPACE}*[Ii][Mm][Aa][Pp][Ss]?://[^/?#]*@"}
"""`imaps://user@host[:port]/FOLDER` or `imap://...`; the port's range, a usable folder and
the absence of a password are checked by `mailboxes.service.parse_imap_url`."""
FOLDER: Final[JsonDict] = {"pattern": rf"^[^\r\n\x00]*[^{SPACE_CHARS}\x00][^\r\n\x00]*{END}"}
"""An IMAP folder name: a visible character, no CR, LF or NUL anywhere."""
MAILBOX_NAME: Final[JsonDict] = {"pattern": rf"^{SPACE}*[A-Za-z0-9][A-Za-z0-9._-]{{0,99}}{SPACE}*$"}


class MailboxCreate(Strict):
    name: str = Field(min_length=1, max_length=100, json_schema_extra=MAILBOX_NAME)
    addresses: list[EmailAddress] = Field(min_length=1, max_length=100)
    enabled: bool = True
    imap_url: str | None = Field(default=None, max_length=500, json_schema_extra=IMAP_URL)
    password_env: str | None = Field(
        default=None, max_length=200, json_schema_extra={"pattern": SECRET_NAME_PATTERN}
    )
    processed_action: ProcessedAction = "seen"
    processed_folder: str | None = Field(default=None, max_length=200, json_schema_extra=FOLDER)
    oversized_action: OversizedAction = "leave"
    oversized_folder: str | None = Field(default=None, max_length=200, json_schema_extra=FOLDER)
    import_existing: bool = False
    """Import the mail the IMAP folder holds already (default: only mail delivered after the
    mailbox is added)."""
    team_id: Id | None = Field(
        default=None,
        description="The team (a user group id) whose tickets this mailbox's mail opens",
    )


class MailboxUpdate(Strict):
    name: str | None = Field(
        default=None, min_length=1, max_length=100, json_schema_extra=MAILBOX_NAME
    )
    addresses: list[EmailAddress] | None = Field(default=None, min_length=1, max_length=100)
    enabled: bool | None = None
    imap_url: str | None = Field(default=None, max_length=500, json_schema_extra=IMAP_URL)
    password_env: str | None = Field(
        default=None, max_length=200, json_schema_extra={"pattern": SECRET_NAME_PATTERN}
    )
    processed_action: ProcessedAction | None = None
    processed_folder: str | None = Field(default=None, max_length=200, json_schema_extra=FOLDER)
    oversized_action: OversizedAction | None = None
    oversized_folder: str | None = Field(default=None, max_length=200, json_schema_extra=FOLDER)
    import_existing: bool | None = None
    """Before the first poll of an account only: import what the folder holds already."""
    team_id: Id | None = Field(
        default=None, description="The team (a user group id); null: no team"
    )
