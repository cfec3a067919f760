"""The values that cross step boundaries: flags, step results, the run's progress."""

from __future__ import annotations

from hubdesk.intake.types import (
    Disposed,
    MailFlags,
    NoteAdded,
    Progress,
    TicketChanged,
    TicketMade,
)


def test_flags_read_back_from_a_ledger_row_keep_every_fact() -> None:
    stored = {
        "from_problem": "unparseable",
        "bulk": "List-Id",
        "sender_verified": "DMARC pass for example.com",
        "result": "triage",
    }
    flags = MailFlags.from_json(stored)
    assert flags.bulk == "List-Id"
    assert flags.kept == (("result", "triage"),)
    assert flags.as_json() == stored
    assert MailFlags().as_json() == {}


def test_progress_folds_each_result() -> None:
    made = TicketMade(3, "TKT-20260302-001", created=True, linked=False, priority="high")
    after = Progress().after(made)
    assert (after.ticket_id, after.created, after.linked) == (3, True, False)
    assert after.after(NoteAdded(3, 9)) == after
    assert after.after(TicketChanged(3, (("priority", "low"),))) == after
    linked = Progress().after(TicketMade(4, "TKT-20260302-002", created=False, linked=True))
    assert (linked.created, linked.linked) == (False, True)
    disposed = Progress().after(Disposed("spam", "known spammer"))
    assert disposed.disposed == Disposed("spam", "known spammer")
    assert disposed.made is None


def test_results_keep_the_spec_json_shapes() -> None:
    created = TicketMade(3, "TKT-20260302-001", True, False, "high", ("vip",))
    assert created.as_json() == {
        "ticket_id": 3,
        "ticket_number": "TKT-20260302-001",
        "created": True,
        "linked": False,
        "priority": "high",
        "tags": ["vip"],
    }
    linked = TicketMade(3, "TKT-20260302-001", False, True, spec_shape="link_email_to_ticket")
    assert linked.as_json() == {"ticket_id": 3, "ticket_number": "TKT-20260302-001", "linked": True}
    assert TicketChanged(3, (("tags", ("a", "b")),)).as_json() == {
        "ticket_id": 3,
        "tags": ["a", "b"],
    }
    assert Disposed("ignored", "x").as_json() == {"disposition": "ignored", "reason": "x"}
