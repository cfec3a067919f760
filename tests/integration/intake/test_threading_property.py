"""Property: under the participants policy, naming a ticket never lets an outsider in.

Hypothesis draws the outsider's address, the form of the hint (subject token in either
spec form, a ticket number inside a Message-ID we never stored, or our own Message-ID format
with a guessed MAC) and noise around it; none of them may append to the ticket.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Comment
from tests.support.mail import raw_mail

# A dot-atom (RFC 5322 3.2.3): atoms joined by single dots. `a..b` or `a.` is no address at
# all; such a sender waits in triage as unreadable, which is not what this property is about.
_atoms = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
local_parts = st.lists(_atoms, min_size=1, max_size=3).map(".".join)
domains = st.sampled_from(["evil.example", "gmail.com", "customer-a.example.net", "x.dk"])
hint_forms = st.sampled_from(["subject_bracket", "subject_re", "unstored_id", "forged_ours"])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(local=local_parts, domain=domains, form=hint_forms, noise=st.text(max_size=30))
def test_hints_never_link_outsiders(
    runtime: Runtime, local: str, domain: str, form: str, noise: str
) -> None:
    """No hint from a non-participant ever appends to the named ticket."""
    sender = f"{local}@{domain}"
    if sender == "alice@customer-a.example":
        return
    first = pipeline.ingest(
        runtime, raw_mail(sender="alice@customer-a.example", subject="Original"), source="p"
    )
    number = first.ticket_number
    noise = " ".join(noise.split())
    subject, in_reply_to = f"Hello {noise}", None
    if form == "subject_bracket":
        subject = f"{noise} [{number}] {noise}"
    elif form == "subject_re":
        subject = f"Re: {number} {noise}"
    elif form == "unstored_id":
        in_reply_to = f"<{number}@mail.example.com>"
    else:
        in_reply_to = f"<{number}.abcdef012345.0123456789abcdef0123@support.example.com>"
    outcome = pipeline.ingest(
        runtime,
        raw_mail(sender=sender, subject=subject.strip() or "x", in_reply_to=in_reply_to),
        source="p",
    )
    assert outcome.status in ("created", "duplicate")
    assert outcome.ticket_id != first.ticket_id
    with runtime.db.transaction(write=False) as session:
        appended = session.scalar(
            select(func.count()).select_from(Comment).where(Comment.ticket_id == first.ticket_id)
        )
    assert appended == 0


def test_an_unreadable_sender_naming_a_ticket_waits_in_triage(runtime: Runtime) -> None:
    """`a..b@…` is no address (two dots in a row): naming a ticket does not let it in either;
    the mail waits for an agent with its reason instead."""
    first = pipeline.ingest(
        runtime, raw_mail(sender="alice@customer-a.example", subject="Original"), source="p"
    )
    outcome = pipeline.ingest(
        runtime,
        raw_mail(sender="a..b@evil.example", subject=f"Re: [{first.ticket_number}]"),
        source="p",
    )
    assert outcome.status == "ignored"
    assert outcome.ticket_id is None
    assert "no readable sender" in outcome.reason
    with runtime.db.transaction(write=False) as session:
        appended = session.scalar(
            select(func.count()).select_from(Comment).where(Comment.ticket_id == first.ticket_id)
        )
    assert appended == 0
