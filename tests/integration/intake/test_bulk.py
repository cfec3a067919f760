"""The bulk paths' batches (`hubdesk.intake.bulk`): group commit, first without savepoints,
then, once a message failed, with a savepoint per message.

One message's failure never rolls back another's; outcomes come out only after their batch
committed; a source that cannot be read stops the run after everything before it committed;
a reply threads to a ticket opened earlier in the same batch; the email log, audit rows,
search index and ledger agree.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Executable, event, func, inspect, select, text

from hubdesk.audit.models import AuditEntry
from hubdesk.db import deferred, quick
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import DedupeKey, InboundMessage
from hubdesk.intake import bulk, pipeline, prologue
from hubdesk.intake.executor import own_addresses
from hubdesk.intake.parse_ahead import WORTH_A_PROCESS
from hubdesk.intake.sources import Source
from hubdesk.intake.types import Outcome
from hubdesk.mailboxes.models import Mailbox, MailboxAddress
from hubdesk.runtime import Runtime
from hubdesk.tickets import search
from hubdesk.tickets.models import EmailLog, Ticket
from hubdesk.users.permissions import SYSTEM
from tests.support.mail import deeply_nested, raw_mail

ONE_BATCH = bulk.BatchLimits(messages=100, bytes=1 << 30, seconds=600)


def _sources(*raws: bytes) -> list[Source]:
    return [Source(f"m{i}", (lambda raw=raw: raw)) for i, raw in enumerate(raws)]


def _count(runtime: Runtime, model: type[object], *where: object) -> int:
    with runtime.db.transaction(write=False) as session:
        statement = select(func.count()).select_from(model)
        for clause in where:
            statement = statement.where(clause)  # type: ignore[arg-type]
        return session.scalar(statement) or 0


def test_a_batch_threads_dedupes_and_agrees_with_the_log_and_search(runtime: Runtime) -> None:
    """In one transaction: a request, its reply (threads to the ticket opened just before),
    the same bytes again (duplicate) and a quarantined message; every ledger row settles, one
    email-log row per handled mail, and the search finds the reply's words."""
    request = raw_mail(subject="Printer on fire", message_id="<req@example.com>")
    reply = raw_mail(
        subject="Re: Printer on fire",
        message_id="<rep@example.com>",
        in_reply_to="<req@example.com>",
        body="the smoke is purple now",
    )
    outcomes = list(
        bulk.ingest_bulk(runtime, _sources(request, reply, request, deeply_nested(60)), ONE_BATCH)
    )
    assert [o.status for _s, o in outcomes] == ["created", "linked", "duplicate", "quarantined"]
    assert outcomes[1][1].ticket_id == outcomes[0][1].ticket_id
    assert _count(runtime, Ticket) == 1
    assert _count(runtime, EmailLog) == 2
    assert _count(runtime, InboundMessage, InboundMessage.status == "received") == 0
    assert _count(runtime, AuditEntry, AuditEntry.action == "quarantined") == 1
    with runtime.db.transaction(write=False) as session:
        found = session.scalars(select(Ticket.id).where(search.matches(session, "purple"))).all()
        assert found == [outcomes[0][1].ticket_id]


def _savepoints(runtime: Runtime) -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith(("SAVEPOINT", "BEGIN")):
            seen.append(statement.split()[0].upper())

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(runtime.db.engine, "before_cursor_execute", count)


def test_a_batch_without_failures_runs_once_without_savepoints(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, db_kind: str
) -> None:
    """Mail that processes cleanly costs no SAVEPOINT; one failing message makes the batch
    run again with a savepoint per message (the first attempt leaves nothing behind), and
    the outcome is the same as with savepoints from the start."""
    raws = [raw_mail(subject=f"request {i}", message_id=f"<o{i}@x>") for i in range(3)]
    seen, stop = _savepoints(runtime)
    try:
        clean = [o.status for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        stop()
    assert clean == ["created"] * 3
    # none per message, and none for the one new sender's contact on either database (the
    # race with another worker making it is settled by INSERT ... ON CONFLICT DO NOTHING;
    # PostgreSQL used a savepoint for it before)
    assert seen.count("SAVEPOINT") == 0
    _numbers_test_setup(monkeypatch)
    raws = [
        raw_mail(subject=s, message_id=f"<f{i}@x>") for i, s in enumerate(["a", "explode", "c"])
    ]
    seen, stop = _savepoints(runtime)
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["created", "failed", "created"]
    # two transactions: the optimistic attempt (rolled back), then the isolating one
    assert seen.count("SAVEPOINT") >= 3
    assert _count(runtime, Ticket) == 5
    assert _count(runtime, InboundMessage, InboundMessage.status == "failed") == 1
    assert (
        _count(
            runtime, AuditEntry, AuditEntry.action == "created", AuditEntry.entity_type == "ticket"
        )
        == 5
    )


def test_an_error_of_the_sources_themselves_comes_after_the_batches_read_before_it(
    runtime: Runtime,
) -> None:
    """The next batch is read while one runs (so that the parse helpers get all of it): an
    error of the sources' own (a later path that does not exist) raised while reading ahead
    still ends the run only after every batch read before it was committed and reported."""
    from hubdesk.errors import ValidationFailed

    def sources() -> Iterator[Source]:
        yield from _sources(*(raw_mail(subject=s, message_id=f"<{s}@x>") for s in "abc"))
        raise ValidationFailed("missing.eml: no such file or folder")

    seen: list[str] = []
    limits = bulk.BatchLimits(messages=2, bytes=1 << 30, seconds=600)

    def consume() -> None:
        for source, outcome in bulk.ingest_bulk(runtime, sources(), limits):
            assert outcome.status == "created"
            seen.append(source.label)

    with pytest.raises(ValidationFailed, match="no such file"):
        consume()
    assert seen == ["m0", "m1"]
    assert _count(runtime, Ticket) == 2


def test_one_failure_in_a_batch_rolls_back_only_itself(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Three quarantined messages re-run in one batch; the middle one's raw bytes (kept in
    its ledger row, a small message) no longer match their sha256, so it fails (rolled back
    to its savepoint, marked failed, audited) while the other two become tickets in the same
    commit; the log says the batch ran again."""
    caplog.set_level("INFO", logger="hubdesk.intake.bulk")
    ids = [
        o.inbound_id
        for o in (pipeline.ingest(runtime, deeply_nested(d), source="t") for d in (60, 61, 62))
    ]
    assert all(isinstance(i, int) for i in ids)
    with runtime.db.transaction() as session:
        middle = session.get(InboundMessage, ids[1])
        assert middle is not None
        assert middle.raw_inline is not None
        middle.raw_inline = b"flipped on disk" + middle.raw_inline[15:]
    roomier = replace(runtime, settings=runtime.settings.model_copy(update={"mail_max_depth": 80}))
    outcomes = list(bulk.reprocess_bulk(roomier, ids, SYSTEM, ONE_BATCH))  # type: ignore[arg-type]
    assert [o.status for _i, o in outcomes] == ["created", "failed", "created"]
    assert "do not match their sha256 (corrupt)" in outcomes[1][1].reason
    again = [r.getMessage() for r in caplog.records if "runs again" in r.getMessage()]
    assert len(again) == 1, again
    assert again[0].endswith("(corrupt)): the batch runs again in savepoints")
    assert _count(runtime, Ticket) == 2
    with runtime.db.transaction(write=False) as session:
        statuses = [session.get(InboundMessage, i).status for i in ids]  # type: ignore[union-attr]
        assert statuses == ["processed", "failed", "processed"]
        failed = session.get(InboundMessage, ids[1])
        assert failed is not None
        assert failed.attempts == 1
        assert "StorageError" in (failed.last_error or "")
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == ids[1])
        ).all()
        assert "reprocess_requested" in actions
        assert "failed" in actions


def test_outcomes_come_after_their_batch_and_an_unreadable_source_stops_the_run(
    runtime: Runtime,
) -> None:
    """Batches of two: each batch's outcomes are handed out only once its rows are
    committed (visible to another session); a source that cannot be read ends the run with
    everything read before it committed, and nothing after it read."""
    read: list[str] = []

    def reader(label: str, raw: bytes | None) -> Callable[[], bytes]:
        def read_it() -> bytes:
            read.append(label)
            if raw is None:
                raise OSError("disk gone")
            return raw

        return read_it

    sources = [
        Source("a", reader("a", raw_mail(subject="a", message_id="<a@x>"))),
        Source("b", reader("b", raw_mail(subject="b", message_id="<b@x>"))),
        Source("c", reader("c", raw_mail(subject="c", message_id="<c@x>"))),
        Source("bad", reader("bad", None)),
        Source("d", reader("d", raw_mail(subject="d", message_id="<d@x>"))),
    ]
    limits = bulk.BatchLimits(messages=2, bytes=1 << 30, seconds=600)
    seen: list[str] = []

    def consume() -> None:
        for source, outcome in bulk.ingest_bulk(runtime, sources, limits):
            assert outcome.status == "created"
            assert _count(runtime, InboundMessage) >= len(seen) + 1  # committed already
            seen.append(source.label)

    with pytest.raises(bulk.SourceUnreadable, match="bad: cannot read: disk gone"):
        consume()
    assert seen == ["a", "b", "c"]
    assert read == ["a", "b", "c", "bad"]
    assert _count(runtime, Ticket) == 3


def test_a_mailbox_address_added_between_batches_counts_from_the_next_batch(
    runtime: Runtime,
) -> None:
    """Mailbox addresses are read once per batch (memoised on its transaction): an address
    another session adds while the run goes on is ours from the next batch on, so mail from
    it no longer makes a customer contact."""
    sources = _sources(
        raw_mail(subject="one", sender="desk@partner.example", message_id="<one@x>"),
        raw_mail(subject="two", sender="desk@partner.example", message_id="<two@x>"),
    )
    limits = bulk.BatchLimits(messages=1, bytes=1 << 30, seconds=600)
    contacts: list[int | None] = []
    for _source, outcome in bulk.ingest_bulk(runtime, sources, limits):
        with runtime.db.transaction() as session:
            ticket = session.get(Ticket, outcome.ticket_id)
            assert ticket is not None
            contacts.append(ticket.contact_id)
            if len(contacts) == 1:
                mailbox = Mailbox(name="partner")
                session.add(mailbox)
                session.flush()
                session.add(MailboxAddress(address="desk@partner.example", mailbox_id=mailbox.id))
    assert contacts[0] is not None
    assert contacts[1] is None


def test_the_new_ticket_document_built_in_memory_is_the_one_read_back(runtime: Runtime) -> None:
    """A ticket opened by the bulk path gets its search document from memory; rebuilding it
    from the database gives the same text."""
    ((_source, outcome),) = bulk.ingest_bulk(
        runtime, _sources(raw_mail(subject="Blue screen", body="after the update")), ONE_BATCH
    )
    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket is not None
        postgres = session.get_bind().dialect.name == "postgresql"
        query = (
            "SELECT document FROM tticket_search WHERE ticket_id = :id"
            if postgres
            else "SELECT document FROM tticket_search WHERE rowid = :id"
        )
        stored = session.execute(text(query), {"id": ticket.id}).scalar_one()
        assert stored == search.ticket_document(session, ticket)
        assert "after the update" in stored


def test_a_memoised_lookup_is_dropped_when_the_same_transaction_changes_its_rows(
    runtime: Runtime,
) -> None:
    """Inside one transaction the mailbox addresses are read once; adding an address through
    the same session drops the kept value at the next flush, so the next read sees it."""
    with runtime.db.transaction() as session:
        before = own_addresses(session, runtime.settings)
        assert "desk@partner.example" not in before
        mailbox = Mailbox(name="partner")
        session.add(mailbox)
        session.flush()
        session.add(MailboxAddress(address="desk@partner.example", mailbox_id=mailbox.id))
        session.flush()
        assert "desk@partner.example" in own_addresses(session, runtime.settings)


def _documents(runtime: Runtime) -> dict[int, str]:
    with runtime.db.transaction(write=False) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        query = (
            "SELECT ticket_id, document FROM tticket_search"
            if postgres
            else ("SELECT rowid, document FROM tticket_search")
        )
        return {int(i): str(d) for i, d in session.execute(text(query))}


def test_a_failed_message_leaves_none_of_the_rows_kept_for_the_batch_end(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Audit rows, classification records and search documents are written set-wise at the
    batch's end; a message that fails after its ticket, audit row and search document were
    kept takes them back with its savepoint, and the batch's other messages keep theirs."""
    from hubdesk.classifier.models import Classification

    real = search.index_new_ticket

    def index_then_fail(session: object, ticket: Ticket, body: str | None) -> None:
        real(session, ticket, body)  # type: ignore[arg-type]
        if "explode" in ticket.subject:
            raise RuntimeError("late failure")

    monkeypatch.setattr(search, "index_new_ticket", index_then_fail)
    raws = [raw_mail(subject=s, message_id=f"<{s}@x>") for s in ("first", "explode", "third")]
    outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["created", "failed", "created"]
    assert _count(runtime, Ticket) == 2
    assert _count(runtime, AuditEntry, AuditEntry.entity_type == "ticket") == 2
    assert _count(runtime, Classification) == 2
    documents = _documents(runtime)
    with runtime.db.transaction(write=False) as session:
        subjects = dict(session.execute(select(Ticket.id, Ticket.subject)).all())
    assert sorted(subjects.values()) == ["first", "third"]
    assert set(documents) == set(subjects)
    for ticket_id, subject in subjects.items():
        assert subject in documents[ticket_id]
        assert "explode" not in documents[ticket_id]


def test_when_the_set_wise_writes_fail_the_batch_runs_again_row_by_row(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the batch's kept rows cannot be written (not an outage), nothing of the batch is
    committed and it runs again with every row written by its own message: same outcomes,
    one ticket, audit row and search document each."""
    from hubdesk.db import deferred

    calls: list[int] = []
    real = deferred.flush

    def fail_once(session: object) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("cannot write the kept rows")
        return real(session)  # type: ignore[arg-type]

    monkeypatch.setattr(deferred, "flush", fail_once)
    raws = [raw_mail(subject=s, message_id=f"<{s}@x>") for s in ("one", "two")]
    outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["created", "created"]
    assert len(calls) == 2
    assert any("runs again row by row" in r.getMessage() for r in caplog.records)
    assert _count(runtime, Ticket) == 2
    assert _count(runtime, InboundMessage) == 2
    assert _count(runtime, AuditEntry, AuditEntry.entity_type == "ticket") == 2
    assert len(_documents(runtime)) == 2


def test_replies_search_documents_read_at_the_batch_end_are_the_rebuilt_ones(
    runtime: Runtime,
) -> None:
    """A reply's search document is read once, at its batch's end, for every ticket the
    batch touched: two replies to a ticket opened in an earlier batch and a reply to one
    opened in the same batch each leave the document a rebuild from the rows gives."""
    old = raw_mail(subject="Old printer", message_id="<old@x>", body="toner smeared")
    ((_s, first),) = bulk.ingest_bulk(runtime, _sources(old), ONE_BATCH)
    raws = [
        raw_mail(subject="Re: Old printer", in_reply_to="<old@x>", body="still smeared"),
        raw_mail(subject="New laptop", message_id="<new@x>", body="fan whistles"),
        raw_mail(subject="Re: New laptop", in_reply_to="<new@x>", body="whistles louder"),
        raw_mail(subject="Re: Old printer", in_reply_to="<old@x>", body="now jammed too"),
    ]
    outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["linked", "created", "linked", "linked"]
    assert outcomes[0].ticket_id == outcomes[3].ticket_id == first.ticket_id
    documents = _documents(runtime)
    with runtime.db.transaction(write=False) as session:
        for ticket in session.scalars(select(Ticket)):
            assert documents[ticket.id] == search.ticket_document(session, ticket)
    assert "now jammed too" in documents[first.ticket_id]
    assert "still smeared" in documents[first.ticket_id]
    assert "whistles louder" in documents[outcomes[1].ticket_id]


def test_the_ledger_row_is_written_with_its_description_and_fate_at_once(
    runtime: Runtime,
) -> None:
    """What a run learns early (Message-ID, subject, sender, classification) is written with
    the row's fate: on PostgreSQL in one UPDATE, on SQLite in the row's INSERT itself (none
    here, though the reply reads the ticket its chunk's first mail opened), and the stored
    row says all of it."""

    updates: list[str] = []

    def count(
        _conn: object, _cursor: object, statement: str, params: object, _ctx: object, many: bool
    ) -> None:
        if statement.startswith("UPDATE inbound_messages"):  # one per row, batched or not
            updates.extend([statement] * (len(params) if many else 1))  # type: ignore[arg-type]

    raws = [
        raw_mail(subject="Broken mouse", message_id="<mouse@x>", sender="ann@example.org"),
        raw_mail(subject="Re: Broken mouse", in_reply_to="<mouse@x>", sender="ann@example.org"),
    ]
    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)
    assert [o.status for o in outcomes] == ["created", "linked"]
    assert len(updates) == (2 if runtime.db.engine.dialect.name == "postgresql" else 0)
    with runtime.db.transaction(write=False) as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [r.message_id for r in rows] == ["<mouse@x>", outcomes[1].message_id]
        assert [r.subject for r in rows] == ["Broken mouse", "Re: Broken mouse"]
        assert {r.from_address for r in rows} == {"ann@example.org"}
        assert all(r.classification and r.classification_confidence is not None for r in rows)
        assert [r.status for r in rows] == ["processed", "processed"]
        assert [r.ticket_id for r in rows] == [outcomes[0].ticket_id] * 2


def test_a_sqlite_chunks_ledger_rows_are_inserted_once_with_their_fates(runtime: Runtime) -> None:
    """On SQLite a chunk's ledger rows are written by the batch's next flush, each with its
    fate, in one INSERT and no UPDATE. On PostgreSQL the chunk's dedupe claims refer to the
    rows at its start, so they are inserted then and their fates updated."""
    ledger: list[tuple[str, int]] = []

    def watch(
        _conn: object, _cursor: object, statement: str, params: Any, _ctx: object, many: bool
    ) -> None:
        if re.match(r"(INSERT INTO|UPDATE) inbound_messages\b", statement):
            ledger.append((statement.split()[0], len(params) if many else 1))

    raws = [
        raw_mail(subject=f"Printer {i} is jammed", message_id=f"<p{i}@x>", sender=f"u{i}@x.org")
        for i in range(5)
    ]
    raws.append(raws[0])  # the same bytes again: a duplicate of the chunk's own first row
    event.listen(runtime.db.engine, "before_cursor_execute", watch)
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", watch)
    assert [o.status for o in outcomes] == ["created"] * 5 + ["duplicate"]
    assert ledger[0] == ("INSERT", 6)
    updated = sum(n for verb, n in ledger[1:] if verb == "UPDATE")  # grouped by what changed
    assert updated == (6 if runtime.db.engine.dialect.name == "postgresql" else 0), ledger
    with runtime.db.transaction(write=False) as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [r.id for r in rows] == [o.inbound_id for o in outcomes]
        assert [r.status for r in rows] == ["processed"] * 5 + ["duplicate"]
        assert [r.ticket_id for r in rows] == [o.ticket_id for o in outcomes[:5]] + [
            outcomes[0].ticket_id
        ]
        assert rows[5].duplicate_of_id == rows[0].id
        assert [r.subject for r in rows[:5]] == [f"Printer {i} is jammed" for i in range(5)]
        assert all(r.processed_at is not None and r.classification for r in rows[:5])
        claimed = session.scalars(select(DedupeKey.inbound_id)).all()
        assert sorted(set(claimed)) == [r.id for r in rows[:5]]


def _batch_flushes() -> tuple[list[int], Callable[[], None]]:
    """Count the flushes of bulk batches' sessions (not a short one's on PostgreSQL)."""
    from sqlalchemy.orm import Session

    flushes: list[int] = []

    def count(session: Session, _context: object, _instances: object) -> None:
        if deferred.active(session):
            flushes.append(1)

    event.listen(Session, "before_flush", count)
    return flushes, lambda: event.remove(Session, "before_flush", count)


def test_reads_between_messages_leave_the_pending_writes_to_the_next_flush(
    runtime: Runtime,
) -> None:
    """A message's reads (the new-ticket throttle, the threading look-ups, a new contact,
    a participant) do not flush the previous message's pending rows in a flush of their
    own. Here each reply answers the request just before it, whose email-log row is still
    pending: the reply's look-up by Message-ID flushes it (once a reply), and nothing else
    does but the chunk's ledger rows and the batch end. Before, each of those reads
    flushed (2.3 flushes a message), and later each new ticket and comment (to learn its
    id)."""
    raws = []
    for n in range(8):
        raws.append(raw_mail(subject=f"Printer {n}", message_id=f"<p{n}@x>", sender=f"c{n}@ex.org"))
        raws.append(
            raw_mail(subject=f"Re: Printer {n}", in_reply_to=f"<p{n}@x>", sender=f"c{n}@ex.org")
        )
    flushes, stop = _batch_flushes()
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["created", "linked"] * 8
    # 8 replies; the first reads of the batch's lookups (kept for it) and the chunk's
    # ledger rows a few more. Before: 19
    assert len(flushes) <= 8 + 6, len(flushes)
    with runtime.db.transaction(write=False) as session:
        settled = session.scalars(select(InboundMessage.status)).all()
        assert settled == ["processed"] * 16
        assert _count(runtime, EmailLog) == 16


def test_a_batch_flushes_a_few_times_however_many_tickets_and_replies_it_makes(
    runtime: Runtime,
) -> None:
    """New tickets, comments and email-log rows are numbered at once (`hubdesk.db.ids`) and
    written with the batch's next flush: 30 new requests and 30 replies to tickets of an
    earlier batch take a handful of flushes, not one or more a message; and every row is
    where it belongs."""
    from hubdesk.tickets.models import Comment, TicketParticipant

    earlier = [
        raw_mail(subject=f"Old {n}", message_id=f"<old{n}@x>", sender=f"o{n}@ex.org")
        for n in range(30)
    ]
    first = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*earlier), ONE_BATCH)]
    raws = []
    for n in range(30):
        raws.append(raw_mail(subject=f"New {n}", message_id=f"<new{n}@x>", sender=f"n{n}@ex.org"))
        raws.append(
            raw_mail(
                subject=f"Re: Old {n}",
                message_id=f"<re{n}@x>",
                in_reply_to=f"<old{n}@x>",
                sender=f"o{n}@ex.org",
                body=f"answer number {n}",
            )
        )
    flushes, stop = _batch_flushes()
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["created", "linked"] * 30
    # the chunks' ledger rows, the batch's first lookups, its end; before: 66
    assert len(flushes) <= 8, len(flushes)
    assert [o.ticket_id for o in outcomes[1::2]] == [o.ticket_id for o in first]
    with runtime.db.transaction(write=False) as session:
        replies = session.execute(
            select(Comment.ticket_id, Comment.body, EmailLog.email_message_id)
            .join(EmailLog, EmailLog.id == Comment.email_log_id)
            .order_by(Comment.id)
        ).all()
        assert replies == [
            (first[n].ticket_id, f"answer number {n}", f"<re{n}@x>") for n in range(30)
        ]
        opened = session.execute(
            select(EmailLog.ticket_id, EmailLog.email_message_id)
            .where(EmailLog.is_reply.is_(False))
            .order_by(EmailLog.id)
        ).all()
        assert opened[30:] == [(o.ticket_id, f"<new{n}@x>") for n, o in enumerate(outcomes[::2])]
        people = session.execute(
            select(TicketParticipant.ticket_id, TicketParticipant.email).where(
                TicketParticipant.email.like("n%")
            )
        ).all()
        assert sorted(people) == sorted(
            (o.ticket_id, f"n{n}@ex.org") for n, o in enumerate(outcomes[::2])
        )


def test_a_participant_pending_in_the_session_is_seen_before_it_is_added_again(
    runtime: Runtime,
) -> None:
    """`touching` flushes when a pending write is to the table read: a participant added
    and not yet flushed is found, not inserted twice."""
    from hubdesk.tickets import service as tickets
    from hubdesk.tickets.models import TicketParticipant

    outcome = pipeline.ingest(runtime, raw_mail(message_id="<own@x>"), source="test")
    with runtime.db.transaction() as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket is not None
        assert tickets.add_participant(session, ticket, "new@example.org", "cc")
        assert not tickets.add_participant(session, ticket, "NEW@example.org", "sender")
    with runtime.db.transaction(write=False) as session:
        roles = session.scalars(
            select(TicketParticipant.role).where(TicketParticipant.email == "new@example.org")
        ).all()
        assert roles == ["cc"]


def test_a_contact_made_by_a_failed_message_is_made_again_by_the_next(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within a batch a sender's contact is looked up once; when the message that made it
    fails (its savepoint takes the contact back), the next message from that sender makes
    the contact again and its ticket names the stored one."""
    from hubdesk.customers.models import Contact

    real = search.index_new_ticket

    def index_then_fail(session: object, ticket: Ticket, body: str | None) -> None:
        real(session, ticket, body)  # type: ignore[arg-type]
        if "explode" in ticket.subject:
            raise RuntimeError("late failure")

    monkeypatch.setattr(search, "index_new_ticket", index_then_fail)
    raws = [
        raw_mail(subject="explode", message_id="<e@x>", sender="bo@example.net"),
        raw_mail(subject="second try", message_id="<s@x>", sender="bo@example.net"),
        raw_mail(subject="third try", message_id="<t@x>", sender="bo@example.net"),
    ]
    outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["failed", "created", "created"]
    with runtime.db.transaction(write=False) as session:
        contacts = session.scalars(select(Contact).where(Contact.email == "bo@example.net"))
        (contact,) = contacts.all()
        named = session.scalars(select(Ticket.contact_id).order_by(Ticket.id)).all()
        assert named == [contact.id, contact.id]


def _numbers_test_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    real = search.index_new_ticket

    def index_then_fail(session: object, ticket: Ticket, body: str | None) -> None:
        real(session, ticket, body)  # type: ignore[arg-type]
        if "explode" in ticket.subject:  # after its number, ticket, tags, clock, log rows
            raise RuntimeError("late failure")

    monkeypatch.setattr(search, "index_new_ticket", index_then_fail)


def _sequence(number: str) -> tuple[str, int]:
    _tkt, day, sequence = number.split("-")
    return day, int(sequence)


def _counter_statements(runtime: Runtime) -> tuple[list[str], Callable[[], None]]:

    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "tticket_number_counters" in statement:
            seen.append(statement.split()[0])

    for engine in _engines(runtime):
        event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: [
        event.remove(e, "before_cursor_execute", count) for e in _engines(runtime)
    ]


@pytest.mark.parametrize("failing", [0, 2, 4])
def test_a_batch_numbers_its_tickets_consecutively_with_one_counter_update(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    """On SQLite a batch reserves its first number with the counter's upsert and advances
    the counter once at its end; on PostgreSQL it reserves a block of numbers (as many as
    the chunk has possible new tickets) in a transaction of its own (the counter row locked
    for one statement, not the batch), the numbers of an attempt or savepoint that rolled
    back go to the next new tickets, and the unused end of the block goes back to the
    counter when the transaction ends. Either way a message that fails after its ticket was
    numbered (first, middle or last of the batch) gives its number back, so the batch's
    tickets are numbered 1..n with no gap or repeat and the next batch goes on from n + 1."""
    _numbers_test_setup(monkeypatch)
    subjects = [f"request {i}" for i in range(5)]
    subjects[failing] = "explode"
    raws = [raw_mail(subject=s, message_id=f"<n{i}@x>") for i, s in enumerate(subjects)]
    seen, stop = _counter_statements(runtime)
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        stop()
    statuses = ["created"] * 5
    statuses[failing] = "failed"
    assert [o.status for o in outcomes] == statuses
    # The batch first ran without savepoints (the first ticket's upsert), met the failure
    # and was rolled back whole; then it ran with a savepoint per message, where the first
    # message's upsert is rolled back with it when that message fails, so the next one
    # upserts again.
    isolated = ["INSERT", "INSERT", "UPDATE"] if failing == 0 else ["INSERT", "UPDATE"]
    if runtime.db.engine.dialect.name == "postgresql":
        # A block of five reserved (one upsert). When the message fails before the last,
        # the first attempt rolls back holding the block's unused end, which goes back to
        # the counter (an UPDATE); the second attempt then reserves what its remaining
        # messages may need. When the last fails, the second attempt's spare number goes
        # back after its commit.
        reserved = ["INSERT", "UPDATE", "INSERT"] if failing < 4 else ["INSERT", "UPDATE"]
        assert seen == reserved, seen
    else:
        assert seen == ["INSERT", *isolated]
    with runtime.db.transaction(write=False) as session:
        numbers = session.scalars(select(Ticket.ticket_number).order_by(Ticket.id)).all()
        counters = text("SELECT day, last_value FROM tticket_number_counters")
        ((day, last),) = session.execute(counters)
        by_ledger = dict(session.execute(select(InboundMessage.id, InboundMessage.ticket_id)).all())
    assert [_sequence(n) for n in numbers] == [(day, k) for k in range(1, 5)]
    assert last == 4
    assert [o.ticket_number for o in outcomes if o.status == "created"] == numbers
    assert sorted(t for t in by_ledger.values() if t is not None) == sorted(
        o.ticket_id for o in outcomes if o.ticket_id is not None
    )
    more = [raw_mail(subject=f"later {i}", message_id=f"<l{i}@x>") for i in range(2)]
    later = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*more), ONE_BATCH)]
    assert [_sequence(o.ticket_number or "") for o in later] == [(day, 5), (day, 6)]


def test_a_batch_writes_each_new_tickets_rows_exactly_once(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ticket a batch opens has exactly its own rows (one email-log row, one SLA clock,
    its tags, its contact participant and CC participants, one 'created' audit row, one
    search document), a reply in the same batch adds only its own, and the message that
    failed in the middle left none: nothing lost, nothing written twice."""
    from hubdesk.sla.models import SlaClock
    from hubdesk.tickets.models import Comment, TicketParticipant, TicketTag

    _numbers_test_setup(monkeypatch)
    raws = [
        raw_mail(subject="Urgent: server down", message_id="<a@x>", cc=["cc1@example.org"]),
        raw_mail(subject="explode", message_id="<b@x>", cc=["cc2@example.org"]),
        raw_mail(subject="Re: server down", in_reply_to="<a@x>", cc=["cc3@example.org"]),
        raw_mail(subject="Invoice question", message_id="<c@x>", sender="z@example.net"),
    ]
    outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["created", "failed", "linked", "created"]
    first, _failed, _reply, last = (o.ticket_id for o in outcomes)
    with runtime.db.transaction(write=False) as session:

        def per_ticket(column: object) -> dict[int, int]:
            rows = session.execute(select(column, func.count()).group_by(column)).all()
            return {int(ticket_id): int(n) for ticket_id, n in rows}

        assert per_ticket(EmailLog.ticket_id) == {first: 2, last: 1}
        assert per_ticket(SlaClock.ticket_id) == {first: 1, last: 1}
        assert per_ticket(Comment.ticket_id) == {first: 1}
        participants = session.execute(
            select(TicketParticipant.ticket_id, TicketParticipant.email, TicketParticipant.role)
        ).all()
        assert sorted(participants) == sorted(
            [
                (first, "customer@example.com", "contact"),
                (first, "cc1@example.org", "cc"),
                (first, "cc3@example.org", "cc"),
                (last, "z@example.net", "contact"),
            ]
        )
        tags = session.execute(select(TicketTag.ticket_id, TicketTag.tag)).all()
        assert len(tags) == len(set(tags))
        assert {t for t, _tag in tags} <= {first, last}
        created = session.scalars(
            select(AuditEntry.entity_id).where(
                AuditEntry.entity_type == "ticket", AuditEntry.action == "created"
            )
        ).all()
        assert sorted(int(e) for e in created) == sorted([first, last])
    assert set(_documents(runtime)) == {first, last}


def test_a_workflow_that_fails_after_numbering_its_ticket_gives_the_number_back(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workflow runs in a savepoint of its own inside the message's: when its second step
    fails after its first opened (and numbered) a ticket, the workflow's rows and its
    number go back with it, and the batch's next ticket takes that number."""
    from hubdesk.tickets import service as tickets
    from hubdesk.workflows import service as workflows
    from hubdesk.workflows.catalog import WorkflowIn

    engine = replace(
        runtime, settings=runtime.settings.model_copy(update={"email_workflows_enabled": True})
    )
    steps = [
        {"action": "create_ticket", "params": {}},
        {"action": "set_priority", "params": {"priority": "critical"}},
    ]
    document = {"name": "W", "classification_trigger": "*", "workflow_steps": steps}
    with runtime.db.transaction() as session:
        workflows.create(session, SYSTEM, WorkflowIn.model_validate(document))
    real = tickets.update_ticket

    def update_or_fail(
        session: object, actor: object, ticket: Ticket, *a: object, **k: object
    ) -> object:
        if "explode" in ticket.subject:
            raise RuntimeError("step failed")
        return real(session, actor, ticket, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(tickets, "update_ticket", update_or_fail)
    raws = [raw_mail(subject=s, message_id=f"<{s}@x>") for s in ("one", "explode", "two")]
    outcomes = [o for _s, o in bulk.ingest_bulk(engine, _sources(*raws), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["created", "ignored", "created"]
    assert outcomes[1].ticket_id is None
    assert outcomes[1].reason.startswith("triage: workflow")
    with runtime.db.transaction(write=False) as session:
        numbers = session.scalars(select(Ticket.ticket_number).order_by(Ticket.id)).all()
        (last,) = session.scalars(text("SELECT last_value FROM tticket_number_counters"))
        subjects = session.scalars(select(Ticket.subject).order_by(Ticket.id)).all()
    assert subjects == ["one", "two"]
    assert [_sequence(n)[1] for n in numbers] == [1, 2]
    assert last == 2
    assert set(_documents(runtime)) == {o.ticket_id for o in outcomes if o.ticket_id}


def _selects_from(runtime: Runtime, *tables: str) -> tuple[Counter[str], Callable[[], None]]:
    seen: Counter[str] = Counter()

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        words = " ".join(statement.split()).upper()
        # not a read of rows: a SQLite batch's id counter starts from the largest (`db.ids`)
        if words.startswith("SELECT") and not words.startswith("SELECT MAX("):
            for table in tables:
                if f" FROM {table.upper()}" in words:
                    seen[table] += 1

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(runtime.db.engine, "before_cursor_execute", count)


def test_a_chunk_asks_for_its_senders_and_message_ids_once(runtime: Runtime) -> None:
    """A chunk of twelve mails from four senders (one a known contact, one writing three
    times) reads the contacts and the ledger rows sharing its Message-IDs with one statement
    each, not one per mail; every sender still has exactly one contact, the known one is
    reused, and the colliding Message-ID is flagged."""
    from hubdesk.customers.models import Contact

    known = pipeline.ingest(
        runtime, raw_mail(sender="known@a.example", message_id="<k@x>"), source="t"
    )
    assert known.status == "created"
    senders = ["known@a.example", "new1@b.example", "new2@c.example", "Repeat@D.example"]
    raws = [
        raw_mail(subject=f"r{i}", sender=senders[i % 4], message_id=f"<c{i}@x>") for i in range(11)
    ]
    raws.append(raw_mail(subject="again", body="other words", message_id="<k@x>"))
    seen, stop = _selects_from(runtime, "contacts", "inbound_messages")
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["created"] * 12
    assert seen["contacts"] == 1  # was one per mail whose sender the batch had not met
    assert seen["inbound_messages"] == 1  # was one per mail
    with runtime.db.transaction(write=False) as session:
        emails = session.scalars(select(Contact.email).order_by(Contact.email)).all()
        assert emails == sorted(["customer@example.com", *(s.lower() for s in senders)])
        known_contact = session.scalar(
            select(Ticket.contact_id).where(Ticket.id == known.ticket_id)
        )
        first = session.scalar(select(Ticket.contact_id).where(Ticket.id == outcomes[0].ticket_id))
        assert first == known_contact
        flags = {
            row.message_id: row.flags.get("message_id_collision", False)
            for row in session.scalars(select(InboundMessage))
            if row.id != known.inbound_id
        }
        assert flags == {**{f"<c{i}@x>": False for i in range(11)}, "<k@x>": True}


def _fails_after_logging(subject: str) -> Callable[..., object]:
    """`record.log_email` that raises for mail with `subject` once its email-log row is made
    (the row is then rolled back with the message's savepoint)."""
    from hubdesk.intake import record

    log_email = record.log_email

    def failing(session: object, ticket: object, mail: object, **kwargs: object) -> object:
        logged = log_email(session, ticket, mail, **kwargs)  # type: ignore[arg-type]
        if mail.parsed.subject == subject:  # type: ignore[attr-defined]
            raise RuntimeError(f"{subject} after its email-log row")
        return logged

    return failing


def test_a_reply_to_a_mail_of_its_own_chunk_threads_from_the_chunks_read_on_sqlite(
    runtime: Runtime, db_kind: str
) -> None:
    """Replies that refer to mails of their own chunk (one logged by the batch since the
    chunk's read, one failed and rolled back) and to a mail of an earlier batch thread as a
    read of the email log would say. On SQLite, the batch being the only writer, the email
    log is read once for the chunk and not again by a reply; on PostgreSQL each reply that
    names one of the chunk's own Message-IDs asks again."""
    from hubdesk.intake import record

    earlier = raw_mail(subject="Earlier", message_id="<old@x>")
    assert [o.status for _s, o in bulk.ingest_bulk(runtime, _sources(earlier), ONE_BATCH)] == [
        "created"
    ]
    failing = _fails_after_logging("boom")

    chunk = [
        raw_mail(subject="Printer", message_id="<p@x>"),
        raw_mail(subject="boom", message_id="<boom@x>"),
        raw_mail(subject="Re: Printer", message_id="<p2@x>", in_reply_to="<p@x>"),
        raw_mail(subject="Re: boom", message_id="<b2@x>", in_reply_to="<boom@x>"),
        raw_mail(subject="Re: Earlier", message_id="<o2@x>", in_reply_to="<old@x>"),
    ]
    asked, stop = _statements_like(runtime, "tticket_email_log.email_message_id IN")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(record, "log_email", failing)
            outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*chunk), ONE_BATCH)]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["created", "failed", "linked", "created", "linked"]
    assert outcomes[2].ticket_id == outcomes[0].ticket_id
    assert outcomes[3].ticket_id not in {o.ticket_id for o in outcomes[:3]}
    # the chunk's read, once for the optimistic attempt and once for its rerun in savepoints
    # (the failed message), and on PostgreSQL a read for each reply naming the chunk's own
    assert len(asked) == (2 if db_kind == "sqlite" else 4)


def test_message_id_collisions_are_flagged_within_a_chunk_and_across_chunks(
    runtime: Runtime,
) -> None:
    """Another mail with the same Message-ID (and other content) is flagged whether the first
    was settled before the batch, earlier in the same chunk, or in an earlier chunk of the
    batch (the chunk's one read cannot see what the chunk itself settles)."""
    first = pipeline.ingest(runtime, raw_mail(body="before", message_id="<old@x>"), source="t")
    assert first.status == "created"
    chunk = bulk._LEDGER_CHUNK
    raws = [
        raw_mail(body="one", message_id="<far@x>"),
        raw_mail(body="two", message_id="<old@x>"),
        raw_mail(body="three", message_id="<near@x>"),
        raw_mail(body="four", message_id="<near@x>"),
    ]
    raws += [raw_mail(body=f"filler {i}", message_id=f"<f{i}@x>") for i in range(chunk)]
    raws.append(raw_mail(body="five", message_id="<far@x>"))  # in the next chunk
    outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    assert {o.status for o in outcomes} == {"created"}
    with runtime.db.transaction(write=False) as session:
        flagged = [
            bool(session.get(InboundMessage, o.inbound_id).flags.get("message_id_collision"))  # type: ignore[union-attr]
            for o in outcomes
        ]
    assert flagged[:4] == [False, True, False, True]
    assert flagged[4:-1] == [False] * chunk
    assert flagged[-1] is True


def test_a_reply_without_teams_does_not_ask_for_its_tickets_family_on_sqlite(
    runtime: Runtime, db_kind: str
) -> None:
    """Without `same_email` links (no teams) a batch of replies reads the links once on
    SQLite, not once per reply; on PostgreSQL, where another worker may commit links during
    the batch, each reply asks."""
    request = raw_mail(subject="Printer", message_id="<p@x>")
    replies = [
        raw_mail(subject="Re: Printer", body=f"reply {i}", in_reply_to="<p@x>") for i in range(4)
    ]
    seen, stop = _selects_from(runtime, "tticket_ticket_links")
    try:
        outcomes = [
            o for _s, o in bulk.ingest_bulk(runtime, _sources(request, *replies), ONE_BATCH)
        ]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["created"] + ["linked"] * 4
    assert seen["tticket_ticket_links"] == (4 if db_kind == "postgresql" else 1)


def test_a_batch_writes_its_attachment_rows_with_one_statement_and_a_failure_keeps_none(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attachment rows (nothing in the pipeline reads them back) are written set-wise at the
    batch's end: one INSERT for the batch, not one per mail. Each names its ticket, its
    email-log row and, for a reply, its comment; the message that failed after storing its
    attachment left no row (its savepoint took the kept row back)."""
    from hubdesk.tickets.models import Attachment, Comment

    real = search.index_new_ticket

    def index_then_fail(session: object, ticket: Ticket, body: str | None) -> None:
        real(session, ticket, body)  # type: ignore[arg-type]
        if "explode" in ticket.subject:
            raise RuntimeError("late failure")

    pdf = [("a.pdf", "application/pdf", b"%PDF-1.4 one")]
    raws = [
        raw_mail(subject="first", message_id="<at1@x>", attachments=pdf),
        raw_mail(subject="explode", message_id="<at2@x>", attachments=pdf),
        raw_mail(subject="Re: first", in_reply_to="<at1@x>", attachments=pdf),
        raw_mail(subject="third", message_id="<at3@x>", attachments=pdf),
    ]
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if " ".join(statement.split()).upper().startswith("INSERT INTO TTICKET_ATTACHMENTS"):
            seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        first = [o for _s, o in bulk.ingest_bulk(runtime, _sources(raws[0]), ONE_BATCH)]
        seen.clear()  # a clean batch first: optimistic, one attempt
        monkeypatch.setattr(search, "index_new_ticket", index_then_fail)
        outcomes = first + [
            o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws[1:]), ONE_BATCH)
        ]
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)
    assert [o.status for o in outcomes] == ["created", "failed", "linked", "created"]
    # the optimistic attempt rolled back before its batch end, the isolating one wrote once
    assert len(seen) == 1
    with runtime.db.transaction(write=False) as session:
        rows = session.execute(
            select(Attachment.ticket_id, Attachment.email_log_id, Attachment.comment_id)
        ).all()
        logs = dict(session.execute(select(EmailLog.id, EmailLog.ticket_id)).all())
        comment = session.scalar(select(Comment.id))
    tickets = sorted(t for t, _log, _c in rows)
    assert tickets == sorted([outcomes[0].ticket_id] * 2 + [outcomes[3].ticket_id])
    assert all(logs[log] == ticket for ticket, log, _c in rows)
    assert sorted(c for _t, _l, c in rows if c is not None) == [comment]


def test_a_batch_parsed_by_a_helper_process_settles_as_one_parsed_here(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of 120 (requests, replies threading to them in the same batch, a quarantined
    message) is parsed by the helper (`HUBDESK_INGEST_PARSE_WORKERS`, default 1) but for its
    first chunk, and settles as the same batch parsed here: same statuses, replies on their
    requests' tickets. (The helper is not waited for while it starts, `parse_ahead`; so
    that what it parses is the same in every run, the first parse here waits for it.)"""
    from hubdesk.intake import parse_ahead, prologue

    parsed_here: list[int] = []
    parse = prologue.parse
    runs: list[parse_ahead.ParseAhead] = []
    start = parse_ahead.ParseAhead.start

    def recorded(self: parse_ahead.ParseAhead, *args: Any, **kwargs: Any) -> Any:
        runs.append(self)
        return start(self, *args, **kwargs)

    def counted(runtime: Runtime, raw: bytes) -> object:
        if runs and runs[-1].pids:
            deadline = time.monotonic() + 60
            while not runs[-1].ready and time.monotonic() < deadline:
                time.sleep(0.01)
        parsed_here.append(len(raw))
        return parse(runtime, raw)

    monkeypatch.setattr(parse_ahead.ParseAhead, "start", recorded)
    monkeypatch.setattr(prologue, "parse", counted)

    def batch(tag: str) -> list[bytes]:
        raws = []
        for n in range(59):
            sender = f"c{n}@{tag}.example"
            raws.append(raw_mail(subject=f"{tag} {n}", sender=sender, message_id=f"<{tag}{n}@x>"))
            raws.append(
                raw_mail(
                    subject=f"Re: {tag} {n}",
                    sender=sender,
                    body=f"{tag} more {n}",
                    in_reply_to=f"<{tag}{n}@x>",
                )
            )
        last = raw_mail(subject=f"{tag} last", sender=f"last@{tag}.example")
        return [*raws, deeply_nested(60 if tag == "a" else 61), last]

    def settle(on: Runtime, tag: str) -> list[tuple[str, int | None]]:
        limits = replace(ONE_BATCH, messages=200)
        outcomes = [o for _s, o in bulk.ingest_bulk(on, _sources(*batch(tag)), limits)]
        base = min(o.ticket_id for o in outcomes if o.ticket_id is not None)
        return [(o.status, None if o.ticket_id is None else o.ticket_id - base) for o in outcomes]

    assert runtime.settings.ingest_parse_workers == 1
    helped = settle(runtime, "a")
    assert len(parsed_here) == 25  # the first chunk, parsed while the helper starts
    alone = replace(
        runtime, settings=runtime.settings.model_copy(update={"ingest_parse_workers": 0})
    )
    parsed_here.clear()
    here = settle(alone, "b")
    assert len(parsed_here) == 120
    assert helped == here
    assert Counter(status for status, _t in helped) == {
        "created": 60,
        "linked": 59,
        "quarantined": 1,
    }
    assert all(helped[2 * n + 1][1] == helped[2 * n][1] for n in range(59))
    # in batches of 120 (helped: at least WORTH_A_PROCESS), the second is read and handed
    # to the helper while the first runs: only the run's first chunk is parsed here
    parsed_here.clear()
    two = [*batch("c"), *batch("d")]
    statuses = [
        o.status
        for _s, o in bulk.ingest_bulk(runtime, _sources(*two), replace(ONE_BATCH, messages=120))
    ]
    assert WORTH_A_PROCESS <= 120
    assert len(statuses) == 240
    assert statuses.count("failed") == 0
    assert len(parsed_here) == 25


def test_a_rerun_over_mail_already_imported_parses_none_of_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-run of an import that stopped: every message whose bytes are in is a raw
    duplicate, told by its dedupe key without parsing it (a 68 MB mail took 0.9 s to parse
    just to be called a duplicate)."""
    raws = [raw_mail(subject=f"Import {n}", message_id=f"<import-{n}@x>") for n in range(5)]
    first = list(bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH))
    assert [o.status for _s, o in first] == ["created"] * 5
    parses: list[bytes] = []
    real_parse = prologue.parse

    def counted(runtime: Runtime, raw: bytes) -> object:
        parses.append(raw)
        return real_parse(runtime, raw)

    monkeypatch.setattr(prologue, "parse", counted)
    again = list(bulk.ingest_bulk(runtime, _sources(*raws, raw_mail(subject="new")), ONE_BATCH))
    assert [o.status for _s, o in again] == ["duplicate"] * 5 + ["created"]
    assert [o.ticket_id for _s, o in again][:5] == [o.ticket_id for _s, o in first]
    assert len(parses) == 1  # the new one
    # the rows holding the bytes and their tickets are read once for the chunk, not per
    # duplicate (each read them, and its original's row once more, on its own)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", seen)
    try:
        more = [raw_mail(subject=f"More {n}", message_id=f"<more-{n}@x>") for n in range(20)]
        list(bulk.ingest_bulk(runtime, _sources(*more), ONE_BATCH))
        statements.clear()
        list(bulk.ingest_bulk(runtime, _sources(*more), ONE_BATCH))
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", seen)
    # each duplicate claims its raw key and reads the key's owner (2 statements); the rest
    # is the batch's and the chunk's (47 for these 20 here; 124 when each duplicate read
    # its original's row and ticket on its own)
    assert len(statements) <= 2 * len(more) + 10, len(statements)


def test_the_new_ticket_throttle_counts_tickets_the_batch_has_not_flushed_yet(
    runtime: Runtime,
) -> None:
    """The throttle's count reads the email log; the batch's own new rows are still pending
    there, and a sender's row is flushed before the count that could see it."""
    strict = replace(
        runtime, settings=runtime.settings.model_copy(update={"new_tickets_per_sender_per_hour": 2})
    )
    raws = [raw_mail(subject=f"Request {n}", message_id=f"<t{n}@x>") for n in range(4)]
    outcomes = [o for _s, o in bulk.ingest_bulk(strict, _sources(*raws), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["created", "created", "ignored", "ignored"]
    assert all("TICKET_NEW_PER_SENDER_PER_HOUR=2" in (o.reason or "") for o in outcomes[2:])
    assert _count(runtime, Ticket) == 2


def test_the_chunks_throttle_read_takes_at_most_the_limit_of_a_senders_newest_tickets(
    runtime: Runtime,
) -> None:
    """A sender who opened four tickets in the last hour, under a limit of two: the chunk's
    read takes the newest three (the limit and one, all the throttle needs), and the reason
    says "at least 3"; a sender under the limit is counted exactly and let through."""

    def limited(limit: int) -> Runtime:
        update = {"new_tickets_per_sender_per_hour": limit}
        return replace(runtime, settings=runtime.settings.model_copy(update=update))

    earlier = [
        raw_mail(subject=f"Earlier {n}", message_id=f"<e{n}@x>", sender="alice@example.org")
        for n in range(4)
    ]
    earlier.append(raw_mail(subject="Bob", message_id="<b0@x>", sender="bob@example.org"))
    assert {o.status for _s, o in bulk.ingest_bulk(limited(10), _sources(*earlier), ONE_BATCH)} == {
        "created"
    }
    later = [
        raw_mail(subject="Alice again", message_id="<a4@x>", sender="alice@example.org"),
        raw_mail(subject="Bob again", message_id="<b1@x>", sender="bob@example.org"),
    ]
    outcomes = [o for _s, o in bulk.ingest_bulk(limited(2), _sources(*later), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["ignored", "created"]
    assert "alice@example.org opened at least 3 tickets in the last hour" in (
        outcomes[0].reason or ""
    )


def test_a_sender_past_what_the_chunk_reads_is_counted_exactly_under_a_higher_limit(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a limit above `READ_AT_MOST` (three here), where the chunk's read takes a
    sender's newest `READ_ABOVE` rows and one (two and one here),
    a sender with more rows than that in the hour is counted by the database, once for the
    chunk, and a mail whose count reaches the limit is counted again in its own window,
    exactly: three opened under a limit of four lets the fourth through and holds the fifth
    ("opened 4", not "at least")."""
    monkeypatch.setattr(prologue, "READ_AT_MOST", 3)
    monkeypatch.setattr(prologue, "READ_ABOVE", 2)
    update = {"new_tickets_per_sender_per_hour": 4}
    limited = replace(runtime, settings=runtime.settings.model_copy(update=update))
    earlier = [
        raw_mail(subject=f"Earlier {n}", message_id=f"<e{n}@x>", sender="alice@example.org")
        for n in range(3)
    ]
    assert {o.status for _s, o in bulk.ingest_bulk(limited, _sources(*earlier), ONE_BATCH)} == {
        "created"
    }
    later = [
        raw_mail(subject=f"Again {n}", message_id=f"<a{n}@x>", sender="alice@example.org")
        for n in range(2)
    ]
    outcomes, counts = _ingest_counting(limited, later, "count(")
    assert [o.status for o in outcomes] == ["created", "ignored"]
    assert "alice@example.org opened 4 tickets in the last hour" in (outcomes[1].reason or "")
    # the chunk's count of the sender (the read took three rows, one more than it may,
    # of three), and the fifth mail's own, at the limit
    assert len(counts) == 2


def test_a_chunk_with_more_senders_than_a_statement_reads_reads_them_in_parts(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk's senders are read a bounded number a statement (SQLite allows 500 parts of
    a compound SELECT; a worker's claimed batch is one chunk): with two a statement, five
    senders take three statements, and each sender is still counted."""
    monkeypatch.setattr(prologue, "_PARTS_AT_MOST", 2)
    outcomes, reads = _each_sender_again(runtime, [f"s{n}@example.org" for n in range(5)])
    assert [o.status for o in outcomes] == ["ignored"] * 5
    assert all("opened 1 tickets" in (o.reason or "") for o in outcomes)
    assert len(reads) == 2  # 2 + 2 senders with UNION ALL; the fifth alone, without


def test_a_chunks_senders_are_read_by_a_statement_of_the_next_power_of_two_parts(
    runtime: Runtime,
) -> None:
    """Three senders are read by the statement of four parts (the fourth asks for no
    sender, NULL), so that a run compiles a few statements, not one a number of senders;
    each sender is counted as before, and the empty part counts no one."""
    senders = [f"p{n}@example.org" for n in range(3)]
    outcomes, reads = _each_sender_again(runtime, senders, others=["q@example.org"])
    assert [o.status for o in outcomes] == ["ignored"] * 3
    assert all("opened 1 tickets" in (o.reason or "") for o in outcomes)
    assert [statement.count("UNION ALL") for statement in reads] == [3]


def _each_sender_again(
    runtime: Runtime, senders: list[str], *, others: list[str] | None = None
) -> tuple[list[Outcome], list[str]]:
    """Under a limit of one ticket an hour, each of `senders` (and of `others`) opens one,
    then `senders` write again, in one chunk: those mails' outcomes and the statements of
    the throttle's chunk read (the ones with UNION ALL)."""
    update = {"new_tickets_per_sender_per_hour": 1}
    limited = replace(runtime, settings=runtime.settings.model_copy(update=update))
    earlier = [
        raw_mail(subject=f"First {s}", message_id=f"<f-{s}>", sender=s)
        for s in [*senders, *(others or [])]
    ]
    assert {o.status for _s, o in bulk.ingest_bulk(limited, _sources(*earlier), ONE_BATCH)} == {
        "created"
    }
    later = [raw_mail(subject=f"Again {s}", message_id=f"<a-{s}>", sender=s) for s in senders]
    return _ingest_counting(limited, later, "UNION ALL")


def test_the_throttles_reads_search_the_senders_rows_by_the_sender_index(
    runtime: Runtime, db_kind: str
) -> None:
    """Both throttle statements (a chunk's read for its senders, one sender's count) are
    planned on SQLite on the index of (sender, direction, time), not on the (direction,
    time) index that holds every inbound row of the window (migrations 0021, 0022). PostgreSQL
    plans by its statistics (on an empty table, any index is as cheap): there the index is
    checked to be in place."""
    values = {"sender_0": "a@example.org", "sender_1": "b@example.org", "sender": "a@example.org"}
    values |= {"since": "2026-12-06 00:00:00+00:00", "take": 51}
    with runtime.db.transaction(write=False) as session:
        connection = session.connection()
        if db_kind == "postgresql":
            indexes = inspect(connection).get_indexes("tticket_email_log")
            found = {i["name"]: i["column_names"] for i in indexes}
            assert found["ix_tticket_email_log_sender_opened"] == [
                "email_from",
                "direction",
                "is_reply",
                "created_at",
            ]
            assert "ix_tticket_email_log_email_from" not in found
            return
        plan = _sqlite_plan(connection, prologue._newest_opened(2), values)
        assert plan.count("ix_tticket_email_log_sender_opened") == 2, plan
        assert "TEMP B-TREE" not in plan, plan  # each sender's newest read off the index
        for statement in (prologue._OPENED, prologue._OPENED_TOTALS):
            values["senders"] = ["a@example.org", "b@example.org"]
            plan = _sqlite_plan(connection, statement, values)
            # counted off the index alone, no row read for whether it is a reply (0022)
            assert "COVERING INDEX ix_tticket_email_log_sender_opened" in plan, plan


def _sqlite_plan(connection: Connection, statement: Executable, values: dict[str, Any]) -> str:
    """SQLite's query plan for `statement` with `values` bound."""
    compiled = statement.compile(dialect=connection.dialect)
    state = compiled.construct_expanded_state(values)
    parameters: object = state.parameters
    if state.positiontup is not None:
        parameters = tuple(state.parameters[name] for name in state.positiontup)
    return " ".join(
        str(row[-1])
        for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + state.statement,
            parameters,  # type: ignore[arg-type]
        )  # type: ignore[arg-type]
    )


def test_a_chunks_read_of_settled_message_ids_searches_the_message_id_index(
    runtime: Runtime, db_kind: str
) -> None:
    """The chunk's read of the ledger rows with its Message-IDs is planned on SQLite on the
    Message-ID index, not on the (status, time) index that holds every processed row of the
    ledger (which it took while the statement tested the status too); and a row that is
    not settled (received, failed) is still not taken for one."""
    from hubdesk.intake import lookahead

    if db_kind == "sqlite":
        with runtime.db.transaction(write=False) as session:
            plan = _sqlite_plan(
                session.connection(), lookahead._SETTLED_WITH_IDS, {"ids": ["<a@x>", "<b@x>"]}
            )
        assert "ix_inbound_messages_message_id" in plan, plan
    with runtime.db.transaction() as session:
        rows = inbound.add_received_many(session, [("a" * 64, 10, "t#1"), ("b" * 64, 9, "t#2")])
        rows[0].message_id, rows[1].message_id = "<settled@x>", "<pending@x>"
        inbound.settle(rows[0], "processed", "created")
    with runtime.db.transaction() as session:
        found = session.execute(
            lookahead._SETTLED_WITH_IDS, {"ids": ["<settled@x>", "<pending@x>"]}
        ).all()
        settled = {m for m, _id, status in found if status in lookahead._SETTLED}
    assert settled == {"<settled@x>"}


def test_a_senders_second_mail_in_a_chunk_is_counted_from_the_chunks_read_and_the_batch(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sender with several mails in one chunk: the throttle counts what the chunk's read
    found and the tickets the batch opened since, without a statement a mail. A message
    that failed (rolled back to its savepoint) opened nothing."""
    from hubdesk.intake import record

    strict = replace(
        runtime, settings=runtime.settings.model_copy(update={"new_tickets_per_sender_per_hour": 3})
    )
    alice = "alice@example.org"
    first = raw_mail(subject="Earlier", message_id="<e0@x>", sender=alice)
    assert [o.status for _s, o in bulk.ingest_bulk(strict, _sources(first), ONE_BATCH)] == [
        "created"
    ]
    failing = _fails_after_logging("boom")

    monkeypatch.setattr(record, "log_email", failing)
    chunk = [
        raw_mail(subject="A1", message_id="<a1@x>", sender=alice),
        raw_mail(subject="boom", message_id="<a2@x>", sender=alice),
        raw_mail(subject="A3", message_id="<a3@x>", sender=alice),
        raw_mail(subject="A4", message_id="<a4@x>", sender=alice),
        raw_mail(subject="Bob", message_id="<b1@x>", sender="bob@example.org"),
    ]
    outcomes, counts = _ingest_counting(strict, chunk, "count(*)")
    assert [o.status for o in outcomes] == ["created", "failed", "created", "ignored", "created"]
    assert f"{alice} opened 3 tickets" in (outcomes[3].reason or "")
    assert counts == []


def test_a_ticket_number_named_in_a_subject_finds_a_ticket_opened_earlier_in_the_batch(
    runtime: Runtime, db_kind: str
) -> None:
    """The first ticket of a fresh database is TKT-<today>-001; a mail naming it in the same
    batch (no In-Reply-To) finds the ticket the batch made since the chunk's read, and a
    number nobody has opens a ticket. On SQLite, where the batch is the only writer, the
    number nobody has is not asked of the database again after the chunk's read; on
    PostgreSQL it is (another worker may have made it since)."""
    request = raw_mail(subject="Printer on fire", message_id="<fire@x>")
    outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(request), ONE_BATCH)]
    number = outcomes[0].ticket_number
    assert number is not None
    follow = raw_mail(subject=f"[{number}] still burning", message_id="<burn@x>")
    again = raw_mail(subject="Printer on fire again", message_id="<fire2@x>")
    named = raw_mail(subject=f"Re: [{number[:-3]}002] second", message_id="<second@x>")
    nobodys = raw_mail(subject="Re: [TKT-20000101-999] old", message_id="<old@x>")
    asked, stop = _statements_like(runtime, "tticket_tickets.ticket_number = ")
    try:
        outcomes = [
            o
            for _s, o in bulk.ingest_bulk(
                runtime, _sources(follow, again, named, nobodys), ONE_BATCH
            )
        ]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["linked", "created", "linked", "created"]
    assert outcomes[2].ticket_id == outcomes[1].ticket_id
    assert outcomes[1].ticket_number == number[:-3] + "002"
    assert len(asked) == (0 if db_kind == "sqlite" else 1)


def _ingest_counting(
    runtime: Runtime, raws: list[bytes], needle: str
) -> tuple[list[Outcome], list[str]]:
    """`raws` ingested in one batch: their outcomes and the statements containing `needle`."""
    seen, stop = _statements_like(runtime, needle)
    try:
        return [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)], seen
    finally:
        stop()


def _statements_like(runtime: Runtime, needle: str) -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []

    def spy(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if needle in statement:
            seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", spy)
    return seen, lambda: event.remove(runtime.db.engine, "before_cursor_execute", spy)


def test_a_chunk_reads_its_senders_recent_tickets_once_for_the_throttle(
    runtime: Runtime,
) -> None:
    """The new-ticket throttle's count comes from one read for the chunk's senders: a
    sender who opened two tickets in an earlier batch is throttled, another is not, and no
    mail asks for its own count."""
    strict = replace(
        runtime, settings=runtime.settings.model_copy(update={"new_tickets_per_sender_per_hour": 2})
    )
    earlier = [
        raw_mail(subject=f"Earlier {n}", message_id=f"<e{n}@x>", sender="alice@example.org")
        for n in range(2)
    ]
    assert [o.status for _s, o in bulk.ingest_bulk(strict, _sources(*earlier), ONE_BATCH)] == [
        "created",
        "created",
    ]
    later = [
        raw_mail(subject="Alice again", message_id="<a3@x>", sender="alice@example.org"),
        raw_mail(subject="Bob", message_id="<b1@x>", sender="bob@example.org"),
    ]
    outcomes, counts = _ingest_counting(strict, later, "count(*)")
    assert [o.status for o in outcomes] == ["ignored", "created"]
    assert "alice@example.org opened 2 tickets" in (outcomes[0].reason or "")
    assert counts == []


def test_a_ticket_number_in_a_subject_is_answered_from_the_chunks_read(runtime: Runtime) -> None:
    """A ticket named by number in a subject was read with the chunk (`named_tickets`):
    the mail does not ask for it again."""
    first = [o for _s, o in bulk.ingest_bulk(runtime, _sources(raw_mail()), ONE_BATCH)]
    number = first[0].ticket_number
    assert number is not None
    follow = [
        raw_mail(subject=f"Re: [{number}] more {n}", message_id=f"<more{n}@x>") for n in range(3)
    ]
    asked, stop = _statements_like(runtime, "tticket_tickets.ticket_number = ")
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*follow), ONE_BATCH)]
    finally:
        stop()
    assert [(o.status, o.ticket_id) for o in outcomes] == [("linked", first[0].ticket_id)] * 3
    assert asked == []


def test_a_row_that_fails_when_its_chunk_is_written_fails_only_its_message(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A message's rows stay pending past its run (numbered ahead) and are written when the
    next chunk starts: one refused there (a CHECK constraint) makes the batch run again with
    a savepoint per message, where only that message fails and the other 29 commit."""
    from hubdesk.db import rows

    real = rows.new

    def poisoned(model: type, **values: object) -> object:
        if model is EmailLog and values["email_subject"] == "poison":
            values["direction"] = "sideways"  # refused by the table's CHECK constraint
        return real(model, **values)

    monkeypatch.setattr(rows, "new", poisoned)
    raws = [
        raw_mail(
            subject="poison" if n == 2 else f"Request {n}",
            message_id=f"<r{n}@x>",
            sender=f"s{n}@ex.org",
        )
        for n in range(30)
    ]
    with caplog.at_level("INFO", logger="hubdesk.intake.bulk"):
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["created"] * 2 + ["failed"] + ["created"] * 27
    assert "direction" in (outcomes[2].reason or "")
    assert "runs again in savepoints" in caplog.text
    assert _count(runtime, Ticket) == 29
    assert _count(runtime, EmailLog) == 29
    assert _count(runtime, InboundMessage, InboundMessage.status == "failed") == 1


def test_a_ticket_another_worker_wrote_first_runs_the_batch_again_not_later(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A chunk's rows are written after its messages ran, so a reply's versioned ticket
    UPDATE can find that another worker's batch moved the version on meanwhile
    (`StaleDataError`, seen with two `bench.workers` on PostgreSQL). The batch runs again at
    once with a savepoint per message; before, it was "left for later" as if the database
    were down, and a worker's stuck-row job took it up a minute after."""
    from sqlalchemy.orm.exc import StaleDataError

    real = bulk._flush_messages
    raised: list[str] = []

    def clashing(session: object) -> None:
        if not raised:
            raised.append("once")
            message = "UPDATE statement on table 'tticket_tickets' expected to update 2 row(s)"

            def stale(*_args: object, **_kwargs: object) -> None:
                raise StaleDataError(message)

            with monkeypatch.context() as patch:
                patch.setattr(session, "flush", stale)
                real(session)  # type: ignore[arg-type]
        real(session)  # type: ignore[arg-type]

    monkeypatch.setattr(bulk, "_flush_messages", clashing)
    raws = [raw_mail(subject=f"Request {n}", message_id=f"<c{n}@x>") for n in range(3)]
    with caplog.at_level("INFO", logger="hubdesk.intake.bulk"):
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    assert raised == ["once"]
    assert [o.status for o in outcomes] == ["created"] * 3
    assert "runs again in savepoints" in caplog.text
    assert _count(runtime, Ticket) == 3


def _engines(runtime: Runtime) -> list[Engine]:
    """The batch's engine, and on PostgreSQL the one for its statements of their own."""
    engine = runtime.db.engine
    return [engine, quick.engine_for(engine)] if engine.dialect.name == "postgresql" else [engine]


def _listening(runtime: Runtime, hook: Callable[..., None]) -> Callable[[], None]:
    """`hook` sees every statement of the batch's engines until the returned call."""
    engines = _engines(runtime)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", hook)
    return lambda: [event.remove(engine, "before_cursor_execute", hook) for engine in engines]


def _writes_to(runtime: Runtime, table: str) -> tuple[list[int], Callable[[], None]]:
    """The rows each INSERT into `table` carried, in order (an executemany counts its rows;
    an INSERT in a WITH clause is one)."""
    seen: list[int] = []
    insert = re.compile(rf"(WITH \w+ AS \()?INSERT INTO {table.upper()}\b")

    def count(
        _conn: object, _cursor: object, statement: str, params: object, *_rest: object
    ) -> None:
        if insert.match(" ".join(statement.split()).upper()):
            seen.append(len(params) if isinstance(params, list) else 1)

    for engine in _engines(runtime):
        event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: [
        event.remove(e, "before_cursor_execute", count) for e in _engines(runtime)
    ]


def test_a_batch_claims_its_dedupe_keys_with_one_statement(runtime: Runtime, db_kind: str) -> None:
    """Issue 9: on SQLite a batch's dedupe claims are answered from its chunks' reads and
    written with one executemany before the commit; on PostgreSQL, where another worker may
    claim a key meanwhile, a chunk's claims are one INSERT before its messages run. The
    same bytes twice, the same message with other bytes, and mail imported by an earlier
    run are still duplicates."""
    earlier = raw_mail(subject="Imported before", message_id="<before@x>")
    assert pipeline.ingest(runtime, earlier, source="t").status == "created"
    new = [raw_mail(subject=f"New {i}", message_id=f"<new{i}@x>") for i in range(6)]
    resent = new[2].replace(b"Subject:", b"X-Relay: second\r\nSubject:", 1)
    raws = [*new[:3], new[1], resent, earlier, *new[3:]]
    seen, stop = _writes_to(runtime, "inbound_dedupe_keys")
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        stop()
    statuses = [o.status for o in outcomes]
    assert statuses == ["created"] * 3 + ["duplicate"] * 3 + ["created"] * 3
    with runtime.db.transaction(write=False) as session:
        first = {
            row.id: row.duplicate_of_id
            for row in session.scalars(select(InboundMessage).order_by(InboundMessage.id))
        }
    assert first[outcomes[3].inbound_id] == outcomes[1].inbound_id  # the same bytes
    assert first[outcomes[4].inbound_id] == outcomes[2].inbound_id  # the same message
    assert first[outcomes[5].inbound_id] is not None  # imported by the earlier run
    # two keys for each new message, the raw key for the resent one
    if db_kind == "sqlite":
        assert seen == [13]
    else:
        assert seen == [1]  # one multi-row INSERT (was one statement a message)
    with runtime.db.transaction(write=False) as session:
        keys = session.execute(select(DedupeKey.key, DedupeKey.inbound_id)).all()
    assert len(keys) == 2 + 13
    owners = {outcome.inbound_id for outcome in outcomes if outcome.status == "created"}
    assert {owner for _key, owner in keys} >= owners


def test_a_sqlite_batch_writes_a_chunks_new_contacts_with_one_statement(
    runtime: Runtime, db_kind: str
) -> None:
    """Issue 9: on SQLite the new senders of a chunk become contacts numbered ahead and
    written with the chunk's flush (one INSERT for all of them), each with its audit row,
    and a sender writing twice has one contact; the replies find the ticket's contact still
    pending. On PostgreSQL each new contact is its own short transaction, as before."""
    from hubdesk.customers.models import Contact

    # the process's first mail reads what it keeps for later ones (the priority keywords)
    assert pipeline.ingest(runtime, raw_mail(), source="t").status == "created"
    senders = [f"new{i}@n{i}.example" for i in range(5)]
    raws = [raw_mail(subject=f"From {s}", sender=s, message_id=f"<{s}>") for s in senders]
    raws.append(
        raw_mail(
            subject="Re: From new0@n0.example",
            sender=senders[0],
            message_id="<again@x>",
            in_reply_to=f"<{senders[0]}>",
        )
    )
    seen, stop = _writes_to(runtime, "contacts")
    try:
        outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*raws), ONE_BATCH)]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["created"] * 5 + ["linked"]
    assert seen == ([5] if db_kind == "sqlite" else [1] * 5)
    with runtime.db.transaction(write=False) as session:
        contacts = {c.email: c.id for c in session.scalars(select(Contact))}
        assert set(contacts) == {*senders, "customer@example.com"}
        made = [o.ticket_id for o in outcomes]
        owners = dict(
            session.execute(select(Ticket.id, Ticket.contact_id).where(Ticket.id.in_(made))).all()
        )
        assert owners == {o.ticket_id: contacts[s] for o, s in zip(outcomes, senders, strict=False)}
        audited = session.scalars(
            select(AuditEntry.entity_id).where(
                AuditEntry.entity_type == "contact", AuditEntry.action == "created"
            )
        ).all()
        assert sorted(audited) == sorted(contacts.values())


def test_a_message_that_fails_gives_back_the_keys_its_chunk_claimed_for_it(
    runtime: Runtime, db_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a chunk's dedupe keys are claimed before its messages run, outside
    their savepoints: a message that fails keeps its raw key (as `mark_failed` does) and
    gives its content key back, so the same message arriving again with other bytes in the
    same chunk is processed, as it was when each claim rolled back with its message."""
    import hashlib

    from hubdesk.intake import dedupe

    failing = raw_mail(subject="Boom", message_id="<boom@x>")
    resent = failing.replace(b"Subject:", b"X-Relay: second\r\nSubject:", 1)
    others = [raw_mail(subject=f"Fine {n}", message_id=f"<fine{n}@x>") for n in range(3)]
    doomed = hashlib.sha256(failing).hexdigest()
    real_settle = pipeline.executor.settle

    def settle(session: object, runtime: Runtime, row: InboundMessage, *rest: object) -> object:
        if row.raw_sha256 == doomed:
            raise RuntimeError("a workflow broke")
        return real_settle(session, runtime, row, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline.executor, "settle", settle)
    seen, stop = _writes_to(runtime, "inbound_dedupe_keys")
    try:
        outcomes = [
            o
            for _s, o in bulk.ingest_bulk(
                runtime, _sources(others[0], failing, others[1], resent, others[2]), ONE_BATCH
            )
        ]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["created", "failed", "created", "created", "created"]
    assert "a workflow broke" in (outcomes[1].reason or "")
    with runtime.db.transaction(write=False) as session:
        held = dict(session.execute(select(DedupeKey.key, DedupeKey.inbound_id)).all())
    failed_id, resent_id = outcomes[1].inbound_id, outcomes[3].inbound_id
    assert [key for key, owner in held.items() if owner == failed_id] == [dedupe.raw_key(doomed)]
    assert sorted(k.split(":")[0] for k, owner in held.items() if owner == resent_id) == [
        "msg",
        "raw",
    ]
    if db_kind == "postgresql":
        # the chunk's claim in both attempts (the first ran without savepoints), and the
        # resent copy's own claim of the content key the failed message gave back
        assert len(seen) == 3, seen
    # the failed message's bytes again: a duplicate of the failed row, nothing new
    again = [o for _s, o in bulk.ingest_bulk(runtime, _sources(failing), ONE_BATCH)]
    assert [o.status for o in again] == ["duplicate"]


def test_a_chunks_replies_move_their_tickets_with_one_update(runtime: Runtime) -> None:
    """Issue 9: a reply moves its ticket's `updated_at`, and the ORM writes a versioned row
    with an UPDATE of its own (0.43 statements a mail). A batch writes the tickets its
    chunk's replies moved with one UPDATE (`db.updates`), each row's version still
    checked: 20 replies to 20 tickets are one statement of 20 rows, and every ticket has its
    reply's time and its version moved on once; a second reply to the same ticket in the
    next chunk moves it on again."""
    earlier = [
        raw_mail(subject=f"Old {n}", message_id=f"<old{n}@x>", sender=f"o{n}@ex.org")
        for n in range(20)
    ]
    first = [o for _s, o in bulk.ingest_bulk(runtime, _sources(*earlier), ONE_BATCH)]
    replies = [
        raw_mail(
            subject=f"Re: Old {n}",
            message_id=f"<re{n}@x>",
            in_reply_to=f"<old{n}@x>",
            sender=f"o{n}@ex.org",
        )
        for n in range(20)
    ]
    again = raw_mail(
        subject="Re: Old 0",
        message_id="<again@x>",
        in_reply_to="<re0@x>",
        sender="o0@ex.org",
    )
    filler = [raw_mail(subject=f"New {n}", message_id=f"<new{n}@x>") for n in range(5)]
    updates: list[int] = []

    def count(
        _conn: object, _cursor: object, statement: str, params: object, _ctx: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("UPDATE TTICKET_TICKETS"):
            updates.append(len(params) if many else 1)  # type: ignore[arg-type]

    stop = _listening(runtime, count)
    try:
        outcomes = [
            o for _s, o in bulk.ingest_bulk(runtime, _sources(*replies, *filler, again), ONE_BATCH)
        ]
    finally:
        stop()
    assert [o.status for o in outcomes] == ["linked"] * 20 + ["created"] * 5 + ["linked"]
    assert updates == [20, 1]  # the first chunk's replies, then the second chunk's
    with runtime.db.transaction(write=False) as session:
        rows = session.execute(
            select(Ticket.version, Ticket.created_at, Ticket.updated_at)
            .where(Ticket.id.in_([o.ticket_id for o in first]))
            .order_by(Ticket.id)
        ).all()
    assert [version for version, _created, _updated in rows] == [3] + [2] * 19
    assert all(updated > created for _version, created, updated in rows)


def test_the_blobs_are_made_durable_beside_the_last_writes_and_a_failure_commits_nothing(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's blobs are made durable by a thread of their own while its last rows are
    written (`bulk._finish`), and before the commit: a mail too large for its row is a blob
    that was synced by then. When that sync fails (the disk refuses), the error comes out
    of the batch and none of its rows is committed."""
    import errno
    import threading

    from hubdesk.errors import DatabaseUnavailable, is_disk_full

    real = type(runtime.blobs).sync_batch
    seen: list[str] = []

    def watched(store: object) -> int:
        seen.append(threading.current_thread().name)
        return real(store)  # type: ignore[arg-type]

    monkeypatch.setattr(type(runtime.blobs), "sync_batch", watched)
    big = raw_mail(subject="Large", message_id="<big@x>", body="x" * 200_000)
    outcomes = [o for _s, o in bulk.ingest_bulk(runtime, _sources(big), ONE_BATCH)]
    assert [o.status for o in outcomes] == ["created"]
    assert seen
    assert all(name.startswith("hubdesk-blob-sync") for name in seen)
    with runtime.db.transaction(write=False) as session:
        stored = session.scalars(select(InboundMessage.raw_sha256)).one()
    assert runtime.blobs.exists(stored)

    def refused(_store: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(type(runtime.blobs), "sync_batch", refused)
    again = raw_mail(subject="Larger", message_id="<bigger@x>", body="y" * 200_000)
    with pytest.raises(DatabaseUnavailable, match="No space left") as raised:
        list(bulk.ingest_bulk(runtime, _sources(again), ONE_BATCH))
    assert is_disk_full(raised.value)  # `hubdesk ingest` says so and exits 75
    assert _count(runtime, InboundMessage) == 1
    assert _count(runtime, Ticket) == 1
