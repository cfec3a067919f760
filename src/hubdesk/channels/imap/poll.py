"""One poll of one IMAP folder: new messages into the ledger, processed, then acknowledged.

Per message, in this order (RELIABILITY T39):

1. fetch with BODY.PEEK[] (the message stays unseen on the server);
2. `inbound.receive` commits the raw bytes, `source` = the message's IMAP URL;
3. `pipeline.process` commits its fate (ticket, duplicate, quarantine, failure);
4. acknowledge by UID: \\Seen, move or delete, as the mailbox's `processed_action` says;
5. advance the checkpoint (UIDVALIDITY, last UID).

A crash anywhere leaves a state the next poll finishes: before 2 nothing happened; after 2 the
message is recognised by its URL, processed if still `received`, and acknowledged, never
fetched again. `DatabaseUnavailable` ends the poll before anything more is acknowledged, so
mail waits untouched on the server while the database is down (T40). A message the server
will not hand out is skipped and reported, and does not hold up the ones after it (T02).

When UIDVALIDITY differs from the checkpoint (RFC 3501 2.3.1.1: every UID may now name
another message), or on a mailbox's first poll, each message is recognised by Message-ID and
size instead, reading only that header field; known ones are left as they are (a match is
strong evidence, not proof, so it never moves or deletes mail), the rest are imported.
Unless the mailbox was added with `import_existing`, only messages delivered since it was
added (`import_from`, by INTERNALDATE) are candidates: the folder's backlog is left alone,
untouched and unacknowledged, and counted in `existing_left`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hubdesk.channels import oversized
from hubdesk.channels.imap import ledger as imap_ledger
from hubdesk.channels.imap import status
from hubdesk.channels.imap.client import ImapConnection, ImapRefused
from hubdesk.channels.imap.ledger import Recorded
from hubdesk.channels.imap.status import MailboxView
from hubdesk.inbound import service as inbound
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime


@dataclass
class PollReport:
    """What one poll did (for logs, the CLI and tests)."""

    uidvalidity: int = 0
    resync: bool = False
    fetched: int = 0
    recognised: int = 0
    oversized: int = 0
    acknowledged: int = 0
    existing_left: int = 0
    skipped: list[str] = field(default_factory=list)


def poll(
    runtime: Runtime,
    view: MailboxView,
    connection: ImapConnection,
    holder: str,
    keep_going: Callable[[], bool],
) -> PollReport:
    """Import what is new in the mailbox's folder; stops between messages when told to."""
    report = PollReport(uidvalidity=connection.select(view.target.folder))
    uidvalidity = report.uidvalidity
    if view.uidvalidity != uidvalidity:
        report.resync = True
        every = connection.all_uids()
        wanted = every
        if view.import_from is not None and every:
            delivered = set(connection.delivered_since(view.import_from))
            wanted = [uid for uid in every if uid in delivered]
            report.existing_left = len(every) - len(wanted)
        candidates = _unknown(runtime, view, connection, wanted)
        final = max(every, default=0)
    else:
        candidates = connection.uids_after(view.last_uid)
        final = max(candidates, default=view.last_uid)
    sizes = connection.sizes(candidates) if candidates else {}
    known = imap_ledger.recorded(runtime.db, view, uidvalidity, candidates)
    in_order = True
    for uid in candidates:
        if not keep_going():
            return report
        if uid not in sizes:
            continue  # expunged since the search
        try:
            _one(runtime, view, connection, report, uid, sizes[uid], known.get(uid))
        except ImapRefused as exc:
            report.skipped.append(f"UID {uid}: {exc}")
            in_order = False
            continue
        if in_order and not report.resync:
            status.save_checkpoint(runtime.db, view, holder, uidvalidity, uid)
    if in_order and (uidvalidity, final) != (view.uidvalidity, view.last_uid):
        status.save_checkpoint(runtime.db, view, holder, uidvalidity, final)
    return report


def _one(
    runtime: Runtime,
    view: MailboxView,
    connection: ImapConnection,
    report: PollReport,
    uid: int,
    size: int,
    row: Recorded | None,
) -> None:
    if row is not None:
        report.recognised += 1
        if oversized.is_header_only(row.envelope):
            oversized.quarantine(runtime, row.id)
            _set_aside(connection, view, uid)
            return
        if row.status == "received":
            pipeline.process(runtime, row.id)
        _acknowledge(connection, view, uid, report)
        return
    limit = runtime.settings.mail_max_message_bytes
    if size > limit:
        header = connection.fetch_header(uid)
        if header is None:
            return
        inbound_id = _receive(runtime, view, uid, header, report, size, header_only=True)
        oversized.quarantine(runtime, inbound_id)
        report.oversized += 1
        _set_aside(connection, view, uid)
        return
    raw = connection.fetch(uid)
    if raw is None:
        return
    inbound_id = _receive(runtime, view, uid, raw, report, len(raw))
    report.fetched += 1
    pipeline.process(runtime, inbound_id)
    _acknowledge(connection, view, uid, report)


def _receive(
    runtime: Runtime,
    view: MailboxView,
    uid: int,
    raw: bytes,
    report: PollReport,
    size: int,
    *,
    header_only: bool = False,
) -> int:
    facts = imap_ledger.envelope(view, report.uidvalidity, uid, size, header_only=header_only)
    return inbound.receive(
        runtime.db,
        runtime.blobs,
        raw,
        source=view.target.message_url(report.uidvalidity, uid),
        envelope=facts,
        mailbox_id=view.id,
        claimed=True,
    )


def _acknowledge(
    connection: ImapConnection, view: MailboxView, uid: int, report: PollReport
) -> None:
    if view.processed_action == "move" and view.processed_folder:
        connection.move(uid, view.processed_folder)
    elif view.processed_action == "delete":
        connection.delete(uid)
    else:
        connection.flag_seen(uid)
    report.acknowledged += 1


def _set_aside(connection: ImapConnection, view: MailboxView, uid: int) -> None:
    """An oversized message stays unread where it is, or moves to the oversized folder."""
    if view.oversized_action == "move" and view.oversized_folder:
        connection.move(uid, view.oversized_folder)


def _unknown(
    runtime: Runtime, view: MailboxView, connection: ImapConnection, uids: list[int]
) -> list[int]:
    """The UIDs whose messages the ledger does not hold (by Message-ID and size)."""
    if not uids or not imap_ledger.has_rows(runtime.db, view.id):
        return uids
    identities = connection.identities(uids)
    wanted = {message_id for _size, message_id in identities.values() if message_id}
    known = imap_ledger.known_identities(runtime.db, view.id, wanted)
    return [
        uid
        for uid, (size, message_id) in sorted(identities.items())
        if not (message_id and (message_id, size) in known)
    ]
