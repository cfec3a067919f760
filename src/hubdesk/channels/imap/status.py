"""The poller's side of a mailbox row: a snapshot to work from, its status, its checkpoint.

Status is what an admin and `GET /api/v1/health` see: `state` ok|error, `last_error` in the
server's own words, `last_error_at`, `last_success_at`. Entering and leaving the error state
is audited; routine successes are not (they would flood the audit log), and
`last_success_at` is refreshed at most once per `SUCCESS_RESOLUTION` so that an idle mailbox
does not write every poll. The checkpoint (UIDVALIDITY, last UID) is written only while this
worker holds the lease and the account is unchanged; otherwise `LeaseLost` stops the poller.

A mailbox is stale when it has not been polled successfully for longer than
HUBDESK_MAILBOX_STALE_MINUTES (at least three poll intervals): no worker runs, or every poll
fails. The dashboard and health show stale mailboxes to those who manage mailboxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.config import Settings
from hubdesk.db.types import utcnow
from hubdesk.db.uow import Database
from hubdesk.mailboxes.models import Mailbox
from hubdesk.mailboxes.service import ImapTarget, parse_imap_url
from hubdesk.users.permissions import SYSTEM

SUCCESS_RESOLUTION: Final = timedelta(minutes=1)
_MAX_ERROR: Final = 2000


class LeaseLost(Exception):
    """Another worker holds the mailbox now, or its account changed: stop polling it."""


@dataclass(frozen=True)
class MailboxView:
    """What one poll needs to know about a mailbox, read at the start of the poll."""

    id: int
    name: str
    imap_url: str
    password_env: str
    target: ImapTarget
    processed_action: str
    processed_folder: str | None
    oversized_action: str
    oversized_folder: str | None
    uidvalidity: int | None
    last_uid: int
    import_from: datetime | None
    state: str
    last_success_at: datetime | None

    @property
    def account(self) -> tuple[str | None, ...]:
        """The settings that, when changed, need a fresh connection and poller."""
        return (
            self.imap_url,
            self.password_env,
            self.processed_action,
            self.processed_folder,
            self.oversized_action,
            self.oversized_folder,
        )


def load(db: Database, mailbox_id: int) -> MailboxView | None:
    """The mailbox as a poller sees it; None when it is gone, disabled or has no IMAP."""
    with db.transaction(write=False) as session:
        row = session.get(Mailbox, mailbox_id)
        if row is None or not row.enabled or not row.imap_url or not row.password_env:
            return None
        return MailboxView(
            id=row.id,
            name=row.name,
            imap_url=row.imap_url,
            password_env=row.password_env,
            target=parse_imap_url(row.imap_url),
            processed_action=row.processed_action,
            processed_folder=row.processed_folder,
            oversized_action=row.oversized_action,
            oversized_folder=row.oversized_folder,
            uidvalidity=row.uidvalidity,
            last_uid=row.last_uid,
            import_from=row.import_from,
            state=row.state,
            last_success_at=row.last_success_at,
        )


def record_success(db: Database, view: MailboxView) -> None:
    now = utcnow()
    fresh = view.last_success_at is not None and now - view.last_success_at < SUCCESS_RESOLUTION
    if view.state == "ok" and fresh:
        return
    with db.transaction() as session:
        row = session.get(Mailbox, view.id)
        if row is None:
            return
        before = row.state
        row.state, row.last_success_at = "ok", now
        if before == "error":
            _audit_state(session, row.id, before, "ok", row.last_error)


def record_error(db: Database, mailbox_id: int, message: str) -> None:
    """Show the failure on the mailbox (the text is the server's words or ours, never a
    password: the password is only ever sent to the server)."""
    text = message.strip()[:_MAX_ERROR] or "unknown error"
    with db.transaction() as session:
        row = session.get(Mailbox, mailbox_id)
        if row is None:
            return
        before = row.state
        row.state, row.last_error, row.last_error_at = "error", text, utcnow()
        if before != "error":
            _audit_state(session, row.id, before, "error", text)


def save_checkpoint(
    db: Database, view: MailboxView, holder: str, uidvalidity: int, last_uid: int
) -> None:
    with db.transaction() as session:
        result = session.execute(
            update(Mailbox)
            .where(
                Mailbox.id == view.id,
                Mailbox.lease_holder == holder,
                Mailbox.imap_url == view.imap_url,
            )
            .values(uidvalidity=uidvalidity, last_uid=last_uid)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLost(f"mailbox {view.name} is no longer this worker's to poll")


def stale_threshold(settings: Settings) -> timedelta:
    """How long without a successful poll makes a mailbox stale: the setting, but never
    less than three poll intervals (a healthy poller succeeds once per interval)."""
    return max(
        timedelta(minutes=settings.mailbox_stale_minutes),
        timedelta(seconds=3 * settings.imap_poll_interval),
    )


def is_stale(row: Mailbox, threshold: timedelta, now: datetime) -> bool:
    """An enabled IMAP mailbox without a successful poll for longer than `threshold` (counted
    from its last change when it has never been polled)."""
    if not row.enabled or not row.imap_url:
        return False
    return now - (row.last_success_at or row.updated_at) > threshold


def stale_mailboxes(session: Session, settings: Settings, now: datetime) -> list[Mailbox]:
    """The stale mailboxes, by name."""
    threshold = stale_threshold(settings)
    rows = session.scalars(
        select(Mailbox)
        .where(Mailbox.enabled.is_(True), Mailbox.imap_url.is_not(None))
        .order_by(Mailbox.name)
    )
    return [row for row in rows if is_stale(row, threshold, now)]


def _audit_state(
    session: Session, mailbox_id: int, before: str, after: str, error: str | None
) -> None:
    audit.record(
        session,
        SYSTEM,
        entity_type="mailbox",
        entity_id=mailbox_id,
        action="state_changed",
        changes={"state": [before, after], "last_error": [None, error]},
    )
