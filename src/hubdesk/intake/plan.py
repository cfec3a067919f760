"""Deciding, from the parsed facts and the classification, that an email makes no ticket
(pure).

Bounces and auto-replies never create or reopen tickets. Spam never reaches ticket actions,
with or without workflows (the spec: the classifier filters spam first); an agent may
release it (`hubdesk.intake.triage`). Bulk mail is handled like any other mail (support
addresses behind a list manager receive real customer mail that way) unless
TICKET_IGNORE_BULK is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from hubdesk.classifier.rules import Verdict
from hubdesk.mail.types import ParsedEmail


@dataclass(frozen=True, slots=True)
class Ignore:
    reason: str
    spam: bool = False


def disposition(parsed: ParsedEmail, verdict: Verdict, *, ignore_bulk: bool) -> Ignore | None:
    if parsed.bounce:
        recipients = ", ".join(parsed.bounce_recipients) or "unknown recipients"
        return Ignore(f"bounce: delivery report for {recipients}")
    if parsed.auto_reply:
        return Ignore(f"auto_reply: {parsed.facts.get('auto_reply', 'automatic reply')}")
    if verdict.label == "spam":
        why = "; ".join(verdict.reasons) or verdict.model
        return Ignore(f"spam: {why} (confidence {verdict.confidence:.2f})", spam=True)
    if parsed.bulk and ignore_bulk:
        return Ignore(f"bulk: {parsed.facts.get('bulk', 'list or bulk mail')} (TICKET_IGNORE_BULK)")
    return None
