"""Facts about automation: is this an auto-reply, is it bulk mail (kept apart from bounces).

auto_reply (we must never answer it, RFC 3834 section 2):
- `Auto-Submitted` with any value other than `no` (auto-replied, auto-generated, ...);
- `Precedence: auto_reply`; `X-Autoreply`, `X-Autorespond` (any value but "no");
- an out-of-office subject in Danish, English, German, Swedish/Norwegian.
bulk (lists and newsletters):
- `Precedence: bulk|junk|list`, `List-Id`, `List-Unsubscribe`;
- `X-Auto-Response-Suppress` (Exchange: "do not auto-answer me" - a request that makes the
  message bulk-like, but it does NOT make it an auto-reply).
`facts` records which header or rule decided each, e.g. {"auto_reply": "Auto-Submitted:
auto-replied"}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hubdesk.mail.headers import HeaderBlock

_OUT_OF_OFFICE = re.compile(
    r"^(?:automatisk svar|autosvar|fraværende|out of (?:the )?office|"
    r"automatic reply|auto[- ]?reply|auto[- ]?response|autoresponse|"
    r"abwesenheitsnotiz|automatische antwort|frånvaro|automatiskt svar|"
    r"réponse automatique)\b",
    re.IGNORECASE,
)
_SUBJECT_PREFIXES = re.compile(r"^(?:(?:re|aw|sv|vs|fw|fwd|wg)\s?:\s?)*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AutomationFacts:
    auto_reply: bool
    bulk: bool
    facts: dict[str, str] = field(default_factory=dict)


def _first(header: HeaderBlock, name: str) -> str | None:
    value = header.get(name)
    return None if value is None else " ".join(value.split())[:200]


def _auto_reply_reason(header: HeaderBlock, subject: str) -> str | None:
    submitted = _first(header, "auto-submitted")
    if submitted is not None:
        keyword = submitted.split(";")[0].strip().lower()
        if keyword and keyword != "no":
            return f"Auto-Submitted: {keyword}"
    precedence = (_first(header, "precedence") or "").lower()
    if precedence == "auto_reply":
        return "Precedence: auto_reply"
    for name, shown in (("x-autoreply", "X-Autoreply"), ("x-autorespond", "X-Autorespond")):
        value = _first(header, name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return shown
    stripped = _SUBJECT_PREFIXES.sub("", subject, count=1)
    match = _OUT_OF_OFFICE.match(stripped)
    if match:
        return f"subject: {match.group()}"
    return None


def _bulk_reason(header: HeaderBlock) -> str | None:
    precedence = (_first(header, "precedence") or "").lower()
    if precedence in ("bulk", "junk", "list"):
        return f"Precedence: {precedence}"
    for name, shown in (
        ("list-id", "List-Id"),
        ("list-unsubscribe", "List-Unsubscribe"),
        ("x-auto-response-suppress", "X-Auto-Response-Suppress"),
    ):
        if header.get(name) is not None:
            return shown
    return None


def classify_automation(header: HeaderBlock, subject: str) -> AutomationFacts:
    """auto_reply and bulk for a message with this header block and (clean) subject."""
    facts: dict[str, str] = {}
    auto = _auto_reply_reason(header, subject)
    if auto:
        facts["auto_reply"] = auto
    bulk = _bulk_reason(header)
    if bulk:
        facts["bulk"] = bulk
    return AutomationFacts(auto is not None, bulk is not None, facts)
