"""Group commit for the live receivers: concurrent deliveries share one ledger commit.

Each LMTP/SMTP DATA runs `receive` in a thread and answers 250 only when it returns, that is
after its raw bytes are on disk and its ledger row is committed. When several deliveries are
in flight at once, the first to arrive becomes the leader: it waits a short window
(`window` seconds, only when the previous commit was shared, so a lone delivery never waits),
takes every request queued by then, writes their blobs without waiting for the disk, makes
them durable together (`sync_batch`: one `syncfs` or an fsync per file; an object store
uploads them), inserts
their ledger rows and commits once. Every request of that commit is then released; one of
the requests that arrived meanwhile leads the next commit.

The promises stay: nothing is acknowledged before its bytes and its row are durable (a
request returns only after the shared commit); a crash before the commit acknowledges
nothing (the sender retries, and the raw dedupe key makes a repeat a duplicate); and when a
shared commit fails for a reason other than an unavailable database or disk, each of its
requests is committed again on its own, so one message never takes another down with it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubdesk.db.uow import Database, is_transient
from hubdesk.inbound.service import add_received
from hubdesk.storage.blobs import Blobs, BlobStore

DEFAULT_WINDOW_SECONDS = 0.002
"""How long a leader waits for concurrent deliveries to join its commit (measured in
`bench/lmtp_live.py`: a few milliseconds lets 8 clients share commits; a lone client
never waits)."""


@dataclass
class _Request:
    raw: bytes
    source: str
    envelope: dict[str, Any]
    mailbox_id: int | None
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
    ) -> None:
        self._db = db
        self._blobs = BlobStore(blobs) if isinstance(blobs, Path) else blobs.detached()
        """Its own store object (the local store at a path, or a detached copy of the
        runtime's): batch mode is per object, and other threads of the process write blobs
        through theirs at the same time."""
        self._window = window
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._leading = False
        self._last_batch = 0
        self.commits = 0
        """How many commits were made (for tests and the benchmark)."""

    def receive(
        self,
        raw: bytes,
        *,
        source: str,
        envelope: dict[str, Any] | None = None,
        mailbox_id: int | None = None,
    ) -> int:
        """Keep `raw` and its `received` ledger row; returns its id once committed."""
        request = _Request(raw, source, dict(envelope or {}), mailbox_id)
        with self._cond:
            self._queue.append(request)
            while self._leading and not request.finished:
                self._cond.wait()
            if request.finished:
                return _result(request)
            self._leading = True
        batch: list[_Request] = []
        try:
            if self._window > 0 and self._last_batch > 1:
                time.sleep(self._window)  # deliveries are concurrent now: let more join
            with self._cond:
                batch, self._queue = self._queue, []
            self._commit_batch(batch)
        finally:
            with self._cond:
                for done in batch:
                    done.finished = True
                self._last_batch = len(batch)
                self._leading = False
                self._cond.notify_all()
        return _result(request)

    def _commit_batch(self, batch: list[_Request]) -> None:
        try:
            self._commit(batch)
        except BaseException as exc:
            if len(batch) == 1 or is_transient(exc) or not isinstance(exc, Exception):
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
            digests = [blobs.put(request.raw) for request in batch]
            with self._db.transaction() as session:
                rows = [
                    add_received(
                        session,
                        digest,
                        len(request.raw),
                        source=request.source,
                        envelope=request.envelope,
                        mailbox_id=request.mailbox_id,
                    )
                    for digest, request in zip(digests, batch, strict=True)
                ]
                blobs.sync_batch()
            self.commits += 1
        finally:
            blobs.end_batch()
        for request, row in zip(batch, rows, strict=True):
            request.inbound_id = row.id


def _result(request: _Request) -> int:
    if request.error is not None:
        raise request.error
    if request.inbound_id is None:  # pragma: no cover - a finished request has one
        raise RuntimeError("the ledger commit ended without an id")
    return request.inbound_id
