"""Workers share received mail through `inbound.claim_received`: each row is claimed by one
worker, claims never overlap, and on PostgreSQL a claim does not wait for another worker's
open claim (FOR UPDATE SKIP LOCKED). `pending.drain` processes what it claims in batches."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from hubdesk.channels import pending
from hubdesk.db.engine import WRITE_OPTION
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from tests.support.mail import raw_mail


def _receive(runtime: Runtime, count: int) -> list[int]:
    return [
        inbound.receive(
            runtime.db,
            runtime.blobs,
            raw_mail(subject=f"claim {n}", message_id=f"<claim{n}@x>", sender=f"c{n}@example.com"),
            source="test",
        )
        for n in range(count)
    ]


def test_claims_never_overlap_and_take_the_oldest_first(runtime: Runtime) -> None:
    ids = _receive(runtime, 7)
    taken: list[list[int]] = []
    for _ in range(4):
        with runtime.db.transaction() as session:
            taken.append([row_id for row_id, _envelope in inbound.claim_received(session, 3)])
    assert taken == [ids[0:3], ids[3:6], ids[6:7], []]


def test_a_claim_skips_rows_another_open_claim_holds(runtime: Runtime, db_kind: str) -> None:
    """PostgreSQL: while one worker's claim is uncommitted, another claims the next rows at
    once. SQLite serialises writers, so there the second claim comes after the first."""
    ids = _receive(runtime, 6)
    second: list[int] = []

    def claim_beside() -> None:
        with runtime.db.transaction() as session:
            second.extend(row_id for row_id, _e in inbound.claim_received(session, 3))

    with runtime.db.transaction() as session:
        first = [row_id for row_id, _e in inbound.claim_received(session, 3)]
        beside = threading.Thread(target=claim_beside)
        beside.start()
        if db_kind == "postgresql":
            beside.join(60)  # it would wait for this transaction without SKIP LOCKED
            assert not beside.is_alive()
    beside.join(60)
    assert first == ids[:3]
    assert second == ids[3:]


def test_drain_processes_every_received_row_once(runtime: Runtime) -> None:
    ids = _receive(runtime, 2 * pending.CLAIM_BATCH + 3)
    assert pending.drain(runtime) == len(ids)
    assert pending.drain(runtime) == 0
    with runtime.db.transaction(write=False) as session:
        statuses = set(session.scalars(select(InboundMessage.status)))
        tickets = session.scalars(select(Ticket.ticket_number)).all()
    assert statuses == {"processed"}
    assert len(tickets) == len(ids)
    assert len(set(tickets)) == len(ids)


def test_a_drain_batch_leaves_other_threads_blobs_alone(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's threads share `runtime.blobs`. While a drain batch is open, another
    thread's blob (an IMAP poller storing the next message, which it then acknowledges on the
    server) is on disk when `put` returns, and stays there when the drain's batch fails."""
    ids = _receive(runtime, 2)
    real_lock = inbound.lock
    stored_beside: list[tuple[str, bool]] = []

    def lock_with_a_put_beside(session: Session, inbound_id: int) -> InboundMessage:
        def beside() -> None:
            digest = runtime.blobs.put(f"another thread's mail {inbound_id}".encode())
            stored_beside.append((digest, runtime.blobs.detached().exists(digest)))

        thread = threading.Thread(target=beside)
        thread.start()
        thread.join(60)
        if inbound_id == ids[-1]:
            raise RuntimeError("the drain's batch fails")
        return real_lock(session, inbound_id)

    monkeypatch.setattr(inbound, "lock", lock_with_a_put_beside)
    with pytest.raises(RuntimeError, match="batch fails"):
        pending.drain(runtime)
    assert [durable for _digest, durable in stored_beside] == [True, True]
    fresh = runtime.blobs.detached()
    assert all(fresh.exists(digest) for digest, _durable in stored_beside)


def test_rows_their_own_path_processes_are_not_claimed_by_the_drain(runtime: Runtime) -> None:
    """The IMAP poller and HTTP intake process the rows they receive at once: the drain
    (on every worker, every second) must not take them too."""
    polled = inbound.receive(
        runtime.db, runtime.blobs, raw_mail(subject="polled"), source="imap", claimed=True
    )
    delivered = _receive(runtime, 1)
    with runtime.db.transaction() as session:
        assert [row_id for row_id, _e in inbound.claim_received(session, 10)] == delivered
    with runtime.db.transaction(write=False) as session:
        assert session.get(InboundMessage, polled).status == "received"


def test_one_failure_of_a_claimed_row_is_one_attempt(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim counts the start; the failure of that start is not counted again (a
    failing message gets every retry HUBDESK_INGEST_MAX_ATTEMPTS allows)."""
    ids = _receive(runtime, 1)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a step broke")

    monkeypatch.setattr(pipeline, "run_in", broken)
    assert pending.drain(runtime) == 1
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, ids[0])
        assert row is not None
        assert (row.status, row.attempts) == ("failed", 1)


def test_identical_bytes_in_one_commit_keep_their_own_envelopes(runtime: Runtime) -> None:
    """Two users hand in the same bytes in one shared commit: each gets the row that holds
    its own envelope (who submitted it), not the other's."""
    digest = runtime.blobs.put(b"same bytes")
    given = [inbound.Received(digest, 10, "http", {"submitted_by": who}) for who in ("ann", "bob")]
    with runtime.db.transaction() as session:
        rows = inbound.add_received_many(session, given)
        assert [row.envelope["submitted_by"] for row in rows] == ["ann", "bob"]
        rows = inbound.add_received_many(session, list(reversed(given)))
        assert [row.envelope["submitted_by"] for row in rows] == ["bob", "ann"]


def test_an_idle_drain_takes_no_write_transaction(runtime: Runtime) -> None:
    """Every worker drains every second: with nothing received it only reads (a write
    transaction on SQLite is the whole database's write lock)."""
    writes: list[bool] = []

    def began(connection: Connection) -> None:
        writes.append(bool(connection.get_execution_options().get(WRITE_OPTION)))

    event.listen(runtime.db.engine, "begin", began)
    try:
        assert pending.drain(runtime) == 0
        assert writes
        assert not any(writes)
        _receive(runtime, 1)
        writes.clear()
        assert pending.drain(runtime) == 1
        assert any(writes)
    finally:
        event.remove(runtime.db.engine, "begin", began)
