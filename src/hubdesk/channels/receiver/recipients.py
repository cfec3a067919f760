"""Whose mail the receiver accepts: mailbox addresses and their `+tag` sub-addresses.

With no mailbox address configured at all, any address at MAIL_DOMAIN is accepted, so a
fresh install (`make run`) receives mail out of the box. Everything else is refused at RCPT.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubdesk.config import Settings
from hubdesk.db.uow import Database
from hubdesk.mailboxes import service as mailboxes


@dataclass(frozen=True)
class Recipient:
    address: str
    mailbox_id: int | None
    """None when accepted as `anything@MAIL_DOMAIN` (no mailbox configured)."""
    enabled: bool = True


def resolve(db: Database, settings: Settings, address: str) -> Recipient | None:
    """The recipient if it is ours, else None (raises `DatabaseUnavailable` when down)."""
    with db.transaction(write=False) as session:
        mailbox = mailboxes.mailbox_for_address(session, address)
        if mailbox is not None:
            return Recipient(address, mailbox.id, mailbox.enabled)
        if mailboxes.has_addresses(session):
            return None
    _local, at, domain = address.rpartition("@")
    if at and domain.lower().rstrip(".") == settings.mail_domain:
        return Recipient(address, None)
    return None
