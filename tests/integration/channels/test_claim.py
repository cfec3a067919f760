"""Workers share received mail through `inbound.claim_received`: each row is claimed by one
worker, claims never overlap, and on PostgreSQL a claim does not wait for another worker's
open claim (FOR UPDATE SKIP LOCKED). `pending.drain` processes what it claims in batches."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, event, select, text, update
from sqlalchemy.orm import Session

from hubdesk.channels import pending
from hubdesk.db.engine import WRITE_OPTION
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import bulk, pipeline
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import EmailLog, Ticket
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


def test_drain_processes_every_received_row_once(
    runtime: Runtime, db_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claimed a batch at a time (50 rows on SQLite, 150 on PostgreSQL), each row once."""
    batch = {"sqlite": 50, "postgresql": 150}[db_kind]
    assert pending.claim_batch(runtime) == batch
    ids = _receive(runtime, 2 * batch + 3)
    sizes: list[int] = []
    process_claimed = bulk.process_claimed

    def recorded(runtime: Runtime, inbound_ids: Sequence[int], **kwargs: Any) -> Any:
        sizes.append(len(inbound_ids))
        return process_claimed(runtime, inbound_ids, **kwargs)

    monkeypatch.setattr(bulk, "process_claimed", recorded)
    assert pending.drain(runtime) == len(ids)
    assert sizes == [batch, batch, 3]
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
    _receive(runtime, 2)
    stored_beside: list[tuple[str, bool]] = []

    def lock_many_with_puts_beside(
        _session: Session, inbound_ids: Sequence[int], **_options: object
    ) -> list[InboundMessage]:
        def beside(inbound_id: int) -> None:
            digest = runtime.blobs.put(f"another thread's mail {inbound_id}".encode())
            stored_beside.append((digest, runtime.blobs.detached().exists(digest)))

        for inbound_id in inbound_ids:
            thread = threading.Thread(target=beside, args=(inbound_id,))
            thread.start()
            thread.join(60)
        raise RuntimeError("the drain's batch fails")

    monkeypatch.setattr(inbound, "lock_many", lock_many_with_puts_beside)
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


def _wait_for_a_lock_wait(runtime: Runtime, db_kind: str) -> None:
    """Until another session of this database waits for a lock (PostgreSQL); SQLite's
    writer waits for the write lock, which nothing shows, so there a moment is given."""
    if db_kind != "postgresql":
        time.sleep(0.3)
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 60
    with runtime.db.engine.connect() as connection:
        while not connection.execute(waiting).scalar():
            assert time.monotonic() < deadline, "the drain never waited for the ticket"
            time.sleep(0.02)
            connection.rollback()


def _ticket_for(runtime: Runtime, name: str) -> int:
    """A ticket opened by a request `<name@x>` from dee@example.com; its id."""
    request = raw_mail(subject=f"{name} broke", message_id=f"<{name}@x>", sender="dee@example.com")
    inbound.receive(runtime.db, runtime.blobs, request, source="test")
    assert pending.drain(runtime) == 1
    with runtime.db.transaction(write=False) as session:
        return session.scalars(select(Ticket.id).order_by(Ticket.id.desc())).first() or 0


def _receive_reply(runtime: Runtime, name: str) -> None:
    reply = raw_mail(
        subject=f"Re: {name} broke",
        message_id=f"<{name}-reply@x>",
        in_reply_to=f"<{name}@x>",
        sender="dee@example.com",
        body="still broken",
    )
    inbound.receive(runtime.db, runtime.blobs, reply, source="test")


def _reruns(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "runs again" in r.getMessage()]


def _logged(runtime: Runtime, message_id: str) -> bool:
    """Whether the message is on a ticket (committed)."""
    with runtime.db.transaction(write=False) as session:
        found = session.scalar(select(EmailLog.id).where(EmailLog.email_message_id == message_id))
        return found is not None


def _answer(session: Session, ticket_id: int) -> None:
    """What another worker's reply does to the ticket's row."""
    session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(version=Ticket.version + 1, status="in_progress")
    )


@contextlib.contextmanager
def _drain_beside_an_answer(
    runtime: Runtime, db_kind: str, ticket_id: int
) -> Iterator[tuple[Session, list[int]]]:
    """Another worker's batch (the session yielded) has answered `ticket_id`, uncommitted,
    while a drain runs in a thread; the block runs once the drain waits for a lock. At the
    block's end the other batch commits and the drain is waited for; the list yielded then
    holds what it drained."""
    drained: list[int] = []
    beside = threading.Thread(target=lambda: drained.append(pending.drain(runtime)))
    with runtime.db.transaction() as other:
        _answer(other, ticket_id)
        beside.start()
        _wait_for_a_lock_wait(runtime, db_kind)
        yield other, drained
    beside.join(60)


def test_a_reply_waits_for_another_workers_answer_to_its_ticket_instead_of_failing(
    runtime: Runtime, db_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Another worker's batch has answered the ticket and not yet committed. A reply to that
    ticket in this worker's batch waits for it and then writes on the version it committed:
    it does not read the ticket first and then fail the version check (which rolled the whole
    batch back to run again in savepoints)."""
    caplog.set_level("INFO", logger="hubdesk.intake.bulk")
    ticket_id = _ticket_for(runtime, "disk")
    with runtime.db.transaction(write=False) as session:
        version = session.get(Ticket, ticket_id).version  # type: ignore[union-attr]
    _receive_reply(runtime, "disk")
    with _drain_beside_an_answer(runtime, db_kind, ticket_id) as (_other, drained):
        pass
    assert drained == [1]
    assert not _reruns(caplog)
    with runtime.db.transaction(write=False) as session:
        row = session.scalars(
            select(InboundMessage).where(InboundMessage.message_id == "<disk-reply@x>")
        ).one()
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (row.status, row.ticket_id) == ("processed", ticket_id)
        assert ticket.version == version + 2
        assert ticket.status == "in_progress"  # the other worker's change stands


def test_two_batches_answering_two_tickets_in_opposite_orders_take_turns(
    runtime: Runtime, db_kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """This worker's batch answers the second ticket, then the first; another worker's
    batch holds the first and then answers the second. Taken as each reply threads, those
    locks deadlock (PostgreSQL breaks one batch after `deadlock_timeout`). Now the batch
    locks the tickets its mail names before reading any, without waiting: the reply to the
    free ticket commits at once, and the other waits in a transaction of its own, holding
    nothing the other worker wants."""
    caplog.set_level("INFO", logger="hubdesk.intake.bulk")
    first, second = _ticket_for(runtime, "fan"), _ticket_for(runtime, "pump")
    assert first < second
    _receive_reply(runtime, "pump")
    _receive_reply(runtime, "fan")
    with _drain_beside_an_answer(runtime, db_kind, first) as (other, drained):
        if db_kind == "postgresql":  # SQLite: the open writer holds the whole database
            assert _logged(runtime, "<pump-reply@x>")
            assert not _logged(runtime, "<fan-reply@x>")
        _answer(other, second)
    assert drained == [2]
    assert not _reruns(caplog)
    with runtime.db.transaction(write=False) as session:
        linked = session.execute(
            select(InboundMessage.message_id, InboundMessage.ticket_id).where(
                InboundMessage.message_id.like("%-reply@x>")
            )
        ).all()
    assert sorted(linked) == [("<fan-reply@x>", first), ("<pump-reply@x>", second)]


def test_a_reply_to_a_held_ticket_is_handed_back_and_runs_with_the_next_claim(
    runtime: Runtime, db_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: another worker's batch holds the ticket a reply of the first claim names.
    The reply is handed back, not waited for (the rest of its batch commits), and runs in the
    next claim's batch, the other batch having committed meanwhile: no transaction of this
    drain waits for a ticket. SQLite has no row locks: nothing is handed back."""
    ticket_id = _ticket_for(runtime, "lamp")
    reply = raw_mail(
        subject="Re: lamp broke",
        message_id="<lamp-reply@x>",
        in_reply_to="<lamp@x>",
        sender="dee@example.com",
    )
    reply_id = inbound.receive(runtime.db, runtime.blobs, reply, source="test")
    first, second = _receive(runtime, 2)
    monkeypatch.setitem(pending.CLAIM_BATCH, db_kind, 2)
    calls: list[tuple[list[int], list[int], list[int]]] = []
    waits: list[list[int]] = []
    first_batch, committed = threading.Event(), threading.Event()
    process_claimed, run_once = bulk.process_claimed, bulk._process_claimed_once

    def recorded(runtime: Runtime, inbound_ids: Sequence[int], **kwargs: Any) -> Any:
        result = process_claimed(runtime, inbound_ids, **kwargs)
        calls.append((list(inbound_ids), sorted(kwargs.get("hand_back", ())), result[1]))
        first_batch.set()
        assert committed.wait(60)
        return result

    def once(runtime: Runtime, inbound_ids: Sequence[int], mode: Any, **kwargs: Any) -> Any:
        if kwargs.get("wait"):
            waits.append(list(inbound_ids))
        return run_once(runtime, inbound_ids, mode, **kwargs)

    monkeypatch.setattr(bulk, "process_claimed", recorded)
    monkeypatch.setattr(bulk, "_process_claimed_once", once)
    drained: list[int] = []
    if db_kind == "postgresql":
        beside = threading.Thread(target=lambda: drained.append(pending.drain(runtime)))
        with runtime.db.transaction() as other:
            _answer(other, ticket_id)
            beside.start()
            assert first_batch.wait(60)
        committed.set()
        beside.join(60)
        assert calls == [
            ([reply_id, first], [reply_id, first], [reply_id]),
            ([reply_id, second], [reply_id, second], []),
        ]
    else:
        committed.set()
        drained.append(pending.drain(runtime))
        assert calls == [([reply_id, first], [reply_id, first], []), ([second], [second], [])]
    assert drained == [3]
    assert waits == []
    with runtime.db.transaction(write=False) as session:
        row = session.get(InboundMessage, reply_id)
        assert row is not None
        assert (row.status, row.ticket_id) == ("processed", ticket_id)


def test_a_claimed_batch_reads_its_rows_raw_bytes_with_one_statement(runtime: Runtime) -> None:
    """The batch locks its ledger rows with their raw bytes (kept in the rows, as a small
    message's are): no statement a row to read them as each message runs."""
    _receive(runtime, 5)
    reads: list[str] = []

    def seen(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("SELECT") and "raw_inline" in statement:
            reads.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", seen)
    try:
        assert pending.drain(runtime) == 5
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", seen)
    assert len(reads) == 1, reads
    with runtime.db.transaction(write=False) as session:
        statuses = session.scalars(select(InboundMessage.status)).all()
    assert statuses == ["processed"] * 5


def test_a_reply_to_mail_another_batch_is_running_is_handed_back(
    runtime: Runtime, db_kind: str
) -> None:
    """PostgreSQL: the mail a reply answers is in another worker's open batch (its ledger
    row claimed, no ticket committed yet). Run now, the reply would open a ticket of its own;
    it is handed back, with the reply answering it, while new mail of the same batch runs.
    Once the other batch has settled that mail, both replies run and join its ticket. (SQLite
    runs one batch at a time, so there the mail runs in order.)"""

    def received(subject: str, message_id: str, **headers: str) -> int:
        mail = raw_mail(subject=subject, message_id=message_id, sender="dee@example.com", **headers)
        return inbound.receive(runtime.db, runtime.blobs, mail, source="test")

    original_id = received("fan broke", "<fan@x>")
    reply_id = received("Re: fan broke", "<fan-reply@x>", in_reply_to="<fan@x>")
    again_id = received("Re: fan broke", "<fan-again@x>", in_reply_to="<fan-reply@x>")
    fresh_id = received("kettle broke", "<kettle@x>")
    with runtime.db.transaction() as session:  # the other worker's claim, committed
        assert [row_id for row_id, _e in inbound.claim_received(session, 1)] == [original_id]
    batch = [reply_id, again_id, fresh_id]
    if db_kind == "postgresql":
        done, handed_back = bulk.process_claimed(runtime, batch, hand_back=set(batch))
        assert handed_back == [reply_id, again_id]
        assert [row_id for row_id, _outcome in done] == [fresh_id]
        batch = handed_back
    bulk.process_claimed(runtime, [original_id])  # the other worker's batch settles it
    done, handed_back = bulk.process_claimed(runtime, batch, hand_back=set(batch))
    assert handed_back == []
    assert sorted(row_id for row_id, _outcome in done) == batch
    with runtime.db.transaction(write=False) as session:
        rows = {i: session.get(InboundMessage, i) for i in (original_id, reply_id, again_id)}
        tickets = {i: row.ticket_id for i, row in rows.items() if row is not None}
    assert tickets[reply_id] == tickets[again_id] == tickets[original_id] is not None
