"""What the ledger already holds of an IMAP folder: by message URL, and by Message-ID + size.

A message's ledger `source` is its IMAP URL (RFC 5092, with UIDVALIDITY and UID), so a
message committed by a poller that died before acknowledging it is found again by URL. After
a UIDVALIDITY change the URLs mean nothing; then a message is recognised by its normalised
Message-ID and its RFC822.SIZE (kept in the envelope), read without fetching its body.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select

from hubdesk.channels.imap.status import MailboxView
from hubdesk.db.uow import Database
from hubdesk.inbound.models import InboundMessage

_CHUNK: Final = 500


@dataclass(frozen=True)
class Recorded:
    """A ledger row of one IMAP message."""

    id: int
    status: str
    envelope: dict[str, Any]


def envelope(
    view: MailboxView, uidvalidity: int, uid: int, size: int, *, header_only: bool = False
) -> dict[str, Any]:
    """The transport facts a poller records with a message."""
    facts: dict[str, Any] = {
        "channel": "imap",
        "mailbox": view.name,
        "folder": view.target.folder,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "size": size,
    }
    if header_only:
        facts["truncated"] = "header_only"
    return facts


def recorded(
    db: Database, view: MailboxView, uidvalidity: int, uids: Sequence[int]
) -> dict[int, Recorded]:
    """The ledger rows of these UIDs (same UIDVALIDITY), by UID."""
    by_url = {view.target.message_url(uidvalidity, uid): uid for uid in uids}
    urls = list(by_url)
    found: dict[int, Recorded] = {}
    with db.transaction(write=False) as session:
        for start in range(0, len(urls), _CHUNK):
            rows = session.execute(
                select(
                    InboundMessage.id,
                    InboundMessage.status,
                    InboundMessage.envelope,
                    InboundMessage.source,
                ).where(
                    InboundMessage.mailbox_id == view.id,
                    InboundMessage.source.in_(urls[start : start + _CHUNK]),
                )
            )
            for row_id, status, facts, source in rows:
                found.setdefault(by_url[source], Recorded(row_id, status, dict(facts or {})))
    return found


def has_rows(db: Database, mailbox_id: int) -> bool:
    with db.transaction(write=False) as session:
        return (
            session.scalar(
                select(InboundMessage.id).where(InboundMessage.mailbox_id == mailbox_id).limit(1)
            )
            is not None
        )


def known_identities(
    db: Database, mailbox_id: int, message_ids: Collection[str]
) -> set[tuple[str, int]]:
    """(Message-ID, size) of this mailbox's ledger rows among `message_ids`."""
    wanted = sorted(message_ids)
    known: set[tuple[str, int]] = set()
    with db.transaction(write=False) as session:
        for start in range(0, len(wanted), _CHUNK):
            rows = session.execute(
                select(
                    InboundMessage.message_id, InboundMessage.size, InboundMessage.envelope
                ).where(
                    InboundMessage.mailbox_id == mailbox_id,
                    InboundMessage.message_id.in_(wanted[start : start + _CHUNK]),
                )
            )
            for message_id, size, facts in rows:
                known.add((message_id, int((facts or {}).get("size", size))))
    return known
