"""Which worker polls which mailbox: a lease on the mailbox row.

Several workers may run; each IMAP mailbox is polled by one at a time. A lease is taken by a
conditional UPDATE (free, ours, or expired) and is ours when one row changed: on PostgreSQL a
concurrent UPDATE of the same row waits for the other's commit and re-checks the condition
(READ COMMITTED), on SQLite writers are serialised. Leases are renewed every third of their
time and released on exit; a worker that dies loses its leases when they expire.

Expiry is written with each worker's clock, so hosts sharing a database keep time (NTP). A
poller whose lease was not renewed in time stops on its own (`Lease.ok`); should two pollers
ever overlap, the pipeline's dedupe still makes one ticket per message.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Collection
from datetime import timedelta

from sqlalchemy import or_, select, update

from hubdesk.db.types import utcnow
from hubdesk.db.uow import Database
from hubdesk.mailboxes.models import Mailbox

# A poller stops trusting its lease a little before the database would let it go.
_SAFETY = 0.8


def new_holder() -> str:
    """A name for this worker, unique across hosts and restarts."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease:
    """This process's view of one lease: valid until a monotonic deadline, or lost."""

    def __init__(self, mailbox_id: int, ttl: float, taken_at: float) -> None:
        self.mailbox_id = mailbox_id
        self.ttl = ttl
        self._valid_until = taken_at + ttl * _SAFETY
        self._lost = threading.Event()

    def ok(self) -> bool:
        return not self._lost.is_set() and time.monotonic() < self._valid_until

    def renewed(self, at: float) -> None:
        self._valid_until = at + self.ttl * _SAFETY

    def lose(self) -> None:
        self._lost.set()


def take(db: Database, mailbox_id: int, holder: str, ttl: float) -> Lease | None:
    """The lease on an enabled IMAP mailbox, if it is free, expired or ours already."""
    started = time.monotonic()
    now = utcnow()
    with db.transaction() as session:
        result = session.execute(
            update(Mailbox)
            .where(
                Mailbox.id == mailbox_id,
                Mailbox.enabled.is_(True),
                Mailbox.imap_url.is_not(None),
                or_(
                    Mailbox.lease_holder.is_(None),
                    Mailbox.lease_holder == holder,
                    Mailbox.lease_expires_at < now,
                ),
            )
            .values(lease_holder=holder, lease_expires_at=now + timedelta(seconds=ttl))
            .execution_options(synchronize_session=False)
        )
        taken = result.rowcount == 1  # type: ignore[attr-defined]
    return Lease(mailbox_id, ttl, started) if taken else None


def renew(db: Database, mailbox_ids: Collection[int], holder: str, ttl: float) -> set[int]:
    """Extend our leases on `mailbox_ids`; returns the ids we still hold."""
    if not mailbox_ids:
        return set()
    now = utcnow()
    with db.transaction() as session:
        session.execute(
            update(Mailbox)
            .where(Mailbox.id.in_(mailbox_ids), Mailbox.lease_holder == holder)
            .values(lease_expires_at=now + timedelta(seconds=ttl))
            .execution_options(synchronize_session=False)
        )
        held = session.scalars(
            select(Mailbox.id).where(Mailbox.id.in_(mailbox_ids), Mailbox.lease_holder == holder)
        )
        return set(held)


def release(db: Database, mailbox_ids: Collection[int], holder: str) -> None:
    if not mailbox_ids:
        return
    with db.transaction() as session:
        session.execute(
            update(Mailbox)
            .where(Mailbox.id.in_(mailbox_ids), Mailbox.lease_holder == holder)
            .values(lease_holder=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
