"""The deterministic layer of the classifier (pure): facts and headers that settle a class.

Rules answer first; the trained model (when one is active) decides only what the rules leave
open. Before any model is trained, ordinary human mail that is not automatic, not bulk and
threads to no ticket is `support_request` with confidence 0.8, so the spec's workflows run on
a fresh install.

Spam-filter verdict headers are trusted only in the direction that cannot help an attacker:
a message that says it *is* spam is believed; a message that says it is not proves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from hubdesk.mail.types import ParsedEmail

CLASSES: Final = (
    "support_request",
    "reply",
    "auto_reply",
    "bounce",
    "spam",
    "newsletter",
    "invoice",
    "other",
)
RULES_MODEL: Final = "rules/1"
DEFAULT_CONFIDENCE: Final = 0.8

_SPAM_YES: Final = re.compile(r"\A\s*(?:yes|true|spam)\b", re.IGNORECASE)
_INVOICE_WORDS: Final = re.compile(
    r"(?<!\w)(?:faktura(?:nummer|nr)?|fakturaer|kreditnota|invoice|credit note|rykker|"
    r"payment reminder|betalingspåmindelse)(?!\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    label: str
    confidence: float
    model: str
    reasons: tuple[str, ...] = field(default_factory=tuple)
    certain: bool = False
    """A rule settled it; a trained model does not overrule a certain verdict."""

    @property
    def source(self) -> str:
        """`rules` when the deterministic layer decided, else `model`."""
        return "rules" if self.model == RULES_MODEL else "model"


def classify_by_rules(parsed: ParsedEmail, *, threads_to_ticket: bool) -> Verdict:
    if parsed.bounce:
        return _certain("bounce", 1.0, f"delivery report ({parsed.facts.get('bounce', 'DSN')})")
    if parsed.auto_reply:
        return _certain("auto_reply", 1.0, f"automatic reply ({parsed.facts.get('auto_reply')})")
    spam = _spam_header(parsed)
    if spam is not None:
        return _certain("spam", 0.95, spam)
    if threads_to_ticket:
        return _certain("reply", 0.95, "threads to an existing ticket")
    if parsed.bulk:
        return Verdict(
            "newsletter", 0.85, RULES_MODEL, (f"bulk mail ({parsed.facts.get('bulk')})",)
        )
    invoice = _invoice(parsed)
    if invoice is not None:
        return Verdict("invoice", 0.75, RULES_MODEL, (invoice,))
    return Verdict(
        "support_request",
        DEFAULT_CONFIDENCE,
        RULES_MODEL,
        ("human mail: not automatic, not bulk, threads to no ticket",),
    )


def _certain(label: str, confidence: float, reason: str) -> Verdict:
    return Verdict(label, confidence, RULES_MODEL, (reason,), certain=True)


def _spam_header(parsed: ParsedEmail) -> str | None:
    for name in ("x-spam-flag", "x-spam-status", "x-spam"):
        value = parsed.header(name)
        if value is not None and _SPAM_YES.match(value):
            return f"spam filter verdict {name}: {value[:60]}"
    return None


def _invoice(parsed: ParsedEmail) -> str | None:
    word = _INVOICE_WORDS.search(parsed.subject)
    if word is None:
        return None
    pdf = any(a.content_type == "application/pdf" for a in parsed.attachments)
    return f"subject says {word.group(0)!r}" + (" and a PDF is attached" if pdf else "")
