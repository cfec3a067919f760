"""Group commit for the live entry points: concurrent deliveries share one ledger commit.

Each LMTP/SMTP DATA, each `POST /inbound/raw` (and every other one-message entry point that
goes through `pipeline.ingest` in a process with a committer) calls `receive` in a thread and
answers 250 / 2xx only after it returned, that is after its raw bytes are on disk and its
ledger row is committed. When several deliveries are in flight at once, the first to arrive
becomes the leader and waits a short window for the others; it then takes every request
queued, writes their blobs without waiting for the disk and makes them durable together
(`sync_batch`: one `syncfs` or an fsync per file; an object store uploads them), inserts
their ledger rows with the bulk path's one statement
(`inbound.add_received_many`), and commits once. A message of at most
HUBDESK_INLINE_MAX_BYTES is kept in its ledger row instead of a blob (`storage.blobs.keep`):
durable with that same commit, with no file of its own. Every request of that commit is then
released; one of the requests that arrived meanwhile leads the next commit.

The window, measured (`bench/lmtp_live.py`, `bench/README.md`): a commit costs a few fsyncs
whatever its size, so the rate is set by how many deliveries share one. Committing only what
is queued when the previous commit ends splits eight clients into two alternating halves of
three or four; so the leader waits until every sender that delivered in the last second
(`ACTIVE_SECONDS`: an SMTP session, by its identity) is queued, or until the window
(RECEIVER_GROUP_COMMIT_MS) ends, whichever comes first. A lone client is the only active
sender, so it never waits; a sender that went away costs one window, once.

The promises stay: nothing is acknowledged before its bytes and its row are durable (a
request returns only after the shared commit); a crash before the commit acknowledges
nothing (the sender retries, and the raw dedupe key makes a repeat a duplicate); and when a
shared commit fails for a reason other than an unavailable database or a full disk, each of its
requests is committed again on its own, so one message never takes another down with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from hubdesk.audit import service as audit
from hubdesk.db.uow import Database, is_transient
from hubdesk.errors import is_disk_full
from hubdesk.inbound.service import Received, add_received_many
from hubdesk.runtime import Runtime
from hubdesk.storage.blobs import Blobs, BlobStore, keep
from hubdesk.users.permissions import Principal

DEFAULT_WINDOW_SECONDS: Final = 0.002
"""The longest a leader waits for the other active senders (RECEIVER_GROUP_COMMIT_MS)."""
ACTIVE_SECONDS: Final = 1.0
"""A sender that delivered this recently is expected to deliver again soon."""
MAX_BATCH: Final = 500
"""The most deliveries one commit takes (the rest lead the next one)."""


@dataclass
class _Request:
    raw: bytes
    received: Received
    submitted_by: Principal | None
    sender: Hashable | None
    inbound_id: int | None = None
    error: BaseException | None = None
    finished: bool = False


class GroupCommitter:
    """Shares ledger commits between concurrent `receive` calls (thread-safe)."""

    def __init__(
        self,
        db: Database,
        blobs: Path | Blobs,
        *,
        window: float = DEFAULT_WINDOW_SECONDS,
        active_for: float = ACTIVE_SECONDS,
        inline_max: int = 0,
    ) -> None:
        self._db = db
        self._inline_max = inline_max
        """A message of at most this many bytes is kept in its ledger row, not in the blob
        store (`storage.blobs.keep`, HUBDESK_INLINE_MAX_BYTES)."""
        self._blobs = BlobStore(blobs) if isinstance(blobs, Path) else blobs.detached()
        """Its own store object (the local store at a path, or a detached copy of the
        runtime's): batch mode is per object, and other threads of the process write blobs
        through theirs at the same time."""
        self._window = window
        self._active_for = active_for
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._leading = False
        self._senders: dict[Hashable, float] = {}
        """Sender -> when it last delivered (monotonic)."""
        self.commits = 0
        """How many commits were made (for tests and the benchmark)."""

    def receive(
        self,
        raw: bytes,
        *,
        source: str,
        envelope: dict[str, Any] | None = None,
        mailbox_id: int | None = None,
        received_at: datetime | None = None,
        submitted_by: Principal | None = None,
        sender: Hashable | None = None,
        claimed: bool = False,
    ) -> int:
        """Keep `raw` and its `received` ledger row; returns its id once committed.

        `sender` names a client that delivers one message after the other (an SMTP session):
        a leader waits for the recent ones. A message handed in by a user records who did
        (audit), in the same commit. `claimed`: the caller processes the row itself, so the
        workers' drain must not take it (`inbound.Received.claimed`)."""
        received = Received(
            "", len(raw), source, dict(envelope or {}), mailbox_id, received_at, claimed
        )
        request = _Request(raw, received, submitted_by, sender)
        with self._cond:
            if sender is not None:
                self._senders[sender] = time.monotonic()
            self._queue.append(request)
            self._cond.notify_all()
            while self._leading and not request.finished:
                self._cond.wait()
            if request.finished:
                return _result(request)
            self._leading = True
        batch: list[_Request] = []
        try:
            with self._cond:
                self._gather()
                batch = _take(self._queue, request)
                taken = {id(item) for item in batch}
                self._queue = [item for item in self._queue if id(item) not in taken]
            self._commit_batch(batch)
        finally:
            with self._cond:
                for done in batch:
                    done.finished = True
                self._leading = False
                self._cond.notify_all()
        return _result(request)

    def forget(self, sender: Hashable) -> None:
        """`sender` will not deliver again (its session closed): nobody waits for it."""
        with self._cond:
            self._senders.pop(sender, None)
            self._cond.notify_all()

    def _gather(self) -> None:
        """(Holding the lock) wait until every active sender is queued, or the window ends."""
        if self._window <= 0:
            return
        now = time.monotonic()
        deadline = now + self._window
        while True:
            for sender in [s for s, at in self._senders.items() if now - at > self._active_for]:
                del self._senders[sender]
            queued = {request.sender for request in self._queue if request.sender is not None}
            if len(queued) >= len(self._senders) or len(self._queue) >= MAX_BATCH:
                return
            if now >= deadline:
                return
            self._cond.wait(deadline - now)
            now = time.monotonic()

    def _commit_batch(self, batch: list[_Request]) -> None:
        try:
            self._commit(batch)
        except BaseException as exc:
            if len(batch) == 1 or _everyones(exc) or not isinstance(exc, Exception):
                for request in batch:
                    request.error = exc
                return
            for request in batch:  # not the database's fault: each on its own
                try:
                    self._commit([request])
                except Exception as single:
                    request.error = single

    def _commit(self, batch: list[_Request]) -> None:
        blobs = self._blobs
        blobs.begin_batch()
        try:
            received = [
                request.received.with_raw(keep(blobs, request.raw, self._inline_max))
                for request in batch
            ]
            # Durable before the transaction opens: fsyncs or uploads do not hold the database
            # (on SQLite its one write lock). A commit that then fails leaves blobs without a
            # row, which the orphan collection removes.
            blobs.sync_batch()
            with self._db.transaction() as session:
                rows = add_received_many(session, received)
                for request, row in zip(batch, rows, strict=True):
                    if request.submitted_by is not None:
                        audit.record(
                            session,
                            request.submitted_by,
                            entity_type="inbound_message",
                            entity_id=row.id,
                            action="submitted",
                            changes={"source": [None, row.source], "size": [None, row.size]},
                        )
            self.commits += 1
        finally:
            blobs.end_batch()
        for request, row in zip(batch, rows, strict=True):
            request.inbound_id = row.id


def for_runtime(runtime: Runtime) -> GroupCommitter:
    """The process's one committer for `runtime` (LMTP, SMTP and HTTP deliveries share it)."""
    with _CREATE:
        committer = runtime.per_process.get(_KEY)
        if not isinstance(committer, GroupCommitter):
            committer = GroupCommitter(
                runtime.db,
                runtime.blobs,
                window=runtime.settings.receiver_group_commit_ms / 1000,
                inline_max=runtime.settings.inline_max_bytes,
            )
            runtime.per_process[_KEY] = committer
        return committer


_KEY: Final = "inbound.group_commit"
_CREATE = threading.Lock()


def _everyones(exc: BaseException) -> bool:
    """Whether `exc` fails every request alike (the database unavailable, the disk full), so
    committing them one by one would only fail again. Any other error of the file system
    (one blob's directory unusable, say) may be one message's: those are tried apart."""
    if isinstance(exc, OSError):
        return is_disk_full(exc)
    return is_transient(exc)


def _take(queue: list[_Request], leader: _Request) -> list[_Request]:
    """The next commit's requests, oldest first: at most MAX_BATCH, always with the leader's
    own (a leader whose request waited past the first MAX_BATCH would otherwise commit
    others', answer an error for its own, and leave it to be stored by the next commit)."""
    batch = queue[:MAX_BATCH]
    if any(item is leader for item in batch):
        return batch
    return [leader, *queue[: MAX_BATCH - 1]]


def _result(request: _Request) -> int:
    if request.error is not None:
        raise request.error
    if request.inbound_id is None:  # pragma: no cover - a finished request has one
        raise RuntimeError("the ledger commit ended without an id")
    return request.inbound_id
