"""The live receivers' group commit (`hubdesk.inbound.group_commit`): concurrent deliveries
share one ledger commit, each is released only after that commit, and a delivery that
breaks a shared commit is committed apart from the others (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from hubdesk.inbound.group_commit import GroupCommitter
from hubdesk.inbound.models import InboundMessage
from hubdesk.runtime import Runtime
from tests.support.mail import raw_mail


def _visible(runtime: Runtime, inbound_id: int) -> bool:
    """Whether another session sees the row committed and its raw bytes under their name."""
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, inbound_id)
        return row is not None and runtime.blobs.path_for(row.raw_sha256).is_file()


def test_concurrent_deliveries_share_a_commit_and_return_after_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first delivery's commit is held until seven more are queued; they then go in one
    commit together (two commits for eight), and each returns only once its row and bytes
    are visible to another session."""
    committer = GroupCommitter(runtime.db, runtime.blobs.root, window=0)
    first_commit = threading.Event()
    queued = threading.Event()
    real = committer._commit

    def held(batch: list[Any]) -> None:
        if not first_commit.is_set():
            first_commit.set()
            assert queued.wait(30)
        real(batch)

    monkeypatch.setattr(committer, "_commit", held)
    seen: dict[int, bool] = {}
    errors: list[BaseException] = []

    def deliver(n: int) -> None:
        try:
            inbound_id = committer.receive(
                raw_mail(subject=f"mail {n}", message_id=f"<m{n}@x>"), source="lmtp"
            )
            seen[n] = _visible(runtime, inbound_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(0,))]
    threads[0].start()
    assert first_commit.wait(30)
    threads += [threading.Thread(target=deliver, args=(n,)) for n in range(1, 8)]
    for thread in threads[1:]:
        thread.start()
    while True:  # wait until the seven wait in the queue behind the held commit
        with committer._cond:
            if len(committer._queue) == 7:
                break
        time.sleep(0.001)
    queued.set()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert seen == dict.fromkeys(range(8), True)
    assert committer.commits == 2


def test_a_delivery_that_breaks_a_shared_commit_is_committed_apart(runtime: Runtime) -> None:
    """A request whose row cannot be written (an envelope that is not JSON) fails the shared
    commit; the others are then committed one by one and only the bad one gets the error."""
    committer = GroupCommitter(runtime.db, runtime.blobs.root, window=0)
    gate = threading.Lock()
    gate.acquire()
    real = committer._commit
    calls: list[int] = []

    def gated(batch: list[Any]) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            with gate:
                pass
        real(batch)

    committer._commit = gated  # type: ignore[method-assign]
    results: dict[str, object] = {}

    def deliver(name: str, envelope: dict[str, Any]) -> None:
        try:
            results[name] = committer.receive(
                raw_mail(subject=name, message_id=f"<{name}@x>"), source="lmtp", envelope=envelope
            )
        except Exception as exc:
            results[name] = exc

    lead = threading.Thread(target=deliver, args=("lead", {}))
    lead.start()
    while not calls:
        time.sleep(0.001)
    rest = [
        threading.Thread(target=deliver, args=(name, envelope))
        for name, envelope in (("good", {}), ("bad", {"x": object()}), ("fine", {}))
    ]
    for thread in rest:
        thread.start()
    while True:
        with committer._cond:
            if len(committer._queue) == 3:
                break
        time.sleep(0.001)
    gate.release()
    for thread in [lead, *rest]:
        thread.join(60)
    assert isinstance(results["bad"], Exception)
    for name in ("lead", "good", "fine"):
        inbound_id = results[name]
        assert isinstance(inbound_id, int)
        assert _visible(runtime, inbound_id)
    assert calls[:2] == [1, 3]  # the three shared one commit, which failed ...
    assert sorted(calls[2:]) == [1, 1, 1]  # ... and were then committed one by one


def _deliver_in_thread(
    committer: GroupCommitter, sender: str, results: dict[str, object]
) -> threading.Thread:
    def deliver() -> None:
        try:
            results[sender] = committer.receive(
                raw_mail(subject=sender, message_id=f"<{sender}-{time.monotonic_ns()}@x>"),
                source="lmtp",
                sender=sender,
            )
        except Exception as exc:  # pragma: no cover - asserted below
            results[sender] = exc

    thread = threading.Thread(target=deliver)
    thread.start()
    return thread


def test_the_leader_waits_for_every_active_sender_and_a_lone_one_never_waits(
    runtime: Runtime,
) -> None:
    """Three sessions that delivered recently: the first of the next round holds its commit
    (a window far longer than the test) until the other two are queued, and all three go
    in one commit. Once two sessions have closed, the third alone commits at once."""
    committer = GroupCommitter(runtime.db, runtime.blobs.root, window=0, active_for=3600)
    results: dict[str, object] = {}
    for sender in ("a", "b", "c"):  # round one, one after the other: all three are active
        _deliver_in_thread(committer, sender, results).join(60)
    assert committer.commits == 3
    committer._window = 600.0
    first = _deliver_in_thread(committer, "a", results)
    while True:  # the leader is waiting with its own request queued
        with committer._cond:
            if committer._leading and len(committer._queue) == 1:
                break
        time.sleep(0.001)
    assert committer.commits == 3
    rest = [_deliver_in_thread(committer, name, results) for name in ("b", "c")]
    for thread in [first, *rest]:
        thread.join(60)
        assert not thread.is_alive()
    assert committer.commits == 4  # one commit for the three
    for name in ("a", "b", "c"):
        inbound_id = results[name]
        assert isinstance(inbound_id, int)
        assert _visible(runtime, inbound_id)
    committer.forget("b")
    committer.forget("c")
    lone = _deliver_in_thread(committer, "a", results)
    lone.join(120)  # the window is 600 s: a wait would still be running
    assert not lone.is_alive()
    assert committer.commits == 5


def test_unknown_senders_are_not_waited_for(runtime: Runtime) -> None:
    """Deliveries without a sender (HTTP) are committed at once, whatever the window."""
    committer = GroupCommitter(runtime.db, runtime.blobs.root, window=600.0)
    done: list[int] = []
    thread = threading.Thread(
        target=lambda: done.append(committer.receive(raw_mail(subject="api"), source="api:raw"))
    )
    thread.start()
    thread.join(120)
    assert not thread.is_alive()
    assert len(done) == 1
    assert _visible(runtime, done[0])
