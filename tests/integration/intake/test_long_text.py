"""A mail with an enormous text body costs a bounded amount to store and index (probe
finding: a 20 MB text body cost 3.06 s CPU and 519 MB, mostly full-text indexing and the text
stored three times).

The text on the ticket (description, reply comment, email log) is cut at
`MAX_STORED_TEXT_CHARS` with a note, the search document at `MAX_INDEXED_DOCUMENT_CHARS`;
the raw mail is kept whole, and the cost grows no faster than the mail.
"""

from __future__ import annotations

import itertools

from sqlalchemy import select, text

from hubdesk.budgets import MAX_INDEXED_DOCUMENT_CHARS, MAX_STORED_TEXT_CHARS
from hubdesk.inbound import service as inbound
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from hubdesk.tickets import search
from hubdesk.tickets.models import Comment, EmailLog, Ticket
from tests.support.mail import raw_mail
from tests.support.timing import assert_linear

LINE = "The printer on the third floor prints only blank pages again today.\n"
NOTE = "The text was shortened here"


def _body(chars: int, first: str = "firstwordzz", last: str = "lastwordzz") -> str:
    return f"{first}\n" + LINE * (chars // len(LINE)) + last


def _document_length(runtime: Runtime, ticket_id: int) -> int:
    with runtime.db.transaction(write=False) as session:
        if session.get_bind().dialect.name == "postgresql":
            query = "SELECT length(document) FROM tticket_search WHERE ticket_id = :id"
        else:
            query = "SELECT length(document) FROM tticket_search WHERE rowid = :id"
        return int(session.execute(text(query), {"id": ticket_id}).scalar_one())


def test_a_long_text_is_stored_and_indexed_shortened_and_kept_whole(runtime: Runtime) -> None:
    body = _body(3_000_000)
    raw = raw_mail(subject="Blank pages", body=body, message_id="<long@example.com>")
    created = pipeline.ingest(runtime, raw, source="test")
    assert created.ticket_id is not None
    reply = raw_mail(
        subject="Re: Blank pages",
        body=_body(3_000_000, first="replyfirstzz"),
        in_reply_to="<long@example.com>",
    )
    replied = pipeline.ingest(runtime, reply, source="test")
    assert replied.ticket_id == created.ticket_id

    with runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, created.ticket_id)
        assert ticket is not None
        logs = session.scalars(
            select(EmailLog).where(EmailLog.ticket_id == ticket.id).order_by(EmailLog.id)
        ).all()
        comment = session.scalars(select(Comment).where(Comment.ticket_id == ticket.id)).one()
        stored = [ticket.description, comment.body]
        stored += [t for log in logs for t in (log.body_text, log.body_visible)]
        flags = [log.flags.get("text_shortened") for log in logs]
        kept = inbound.raw_bytes(runtime.blobs, inbound.get(session, created.inbound_id))
        found = session.scalars(
            select(Ticket.id).where(search.matches(session, "firstwordzz"))
        ).all()
        missing = session.scalars(
            select(Ticket.id).where(search.matches(session, "lastwordzz"))
        ).all()

    margin = 500  # the "From:/Received:" lines of the description and the note
    assert all(len(t) <= MAX_STORED_TEXT_CHARS + margin for t in stored), [len(t) for t in stored]
    assert [NOTE in t for t in stored] == [True] * len(stored), [len(t) for t in stored]
    assert "firstwordzz" in stored[0]
    assert [f is not None and f > 2_900_000 for f in flags] == [True, True], flags
    assert kept == raw, "the original mail is kept whole"
    assert found == [created.ticket_id]
    assert missing == [], "words past the cap are not indexed (documented)"
    assert _document_length(runtime, created.ticket_id) <= MAX_INDEXED_DOCUMENT_CHARS


def test_a_short_text_is_stored_as_it_came(runtime: Runtime) -> None:
    body = _body(50_000)
    created = pipeline.ingest(runtime, raw_mail(body=body), source="test")
    with runtime.db.transaction(write=False) as session:
        log = session.scalars(select(EmailLog).where(EmailLog.ticket_id == created.ticket_id)).one()
        assert log.body_text.strip() == body.strip()
        assert "text_shortened" not in log.flags
        assert NOTE not in log.body_text


def test_ingest_cost_grows_no_faster_than_the_text(runtime: Runtime) -> None:
    """Ten times the text (past the cap) costs at most LINEAR_BOUND times the CPU."""
    counter = itertools.count()

    def ingest(chars: int) -> None:
        n = next(counter)
        outcome = pipeline.ingest(
            runtime, raw_mail(subject=f"Long {n}", body=f"{n}\n" + _body(chars)), source="test"
        )
        assert outcome.ticket_id is not None

    assert_linear(ingest, 200_000, 2_000_000)
