"""Is this message a delivery failure (bounce), and for which recipients?

Our own detectors rather than the flufl.bounce library: flufl.bounce needs a stdlib
`email.message.Message` (we never build one), pulls in zope.interface and atpublic, and runs
about twenty regex detectors per message; ours work on what the parser already has (the
entity tree, the decoded notification text) in two passes, and only run when the message
looks like a bounce at all.

1. A message/delivery-status part (RFC 3464): the per-recipient blocks with `Action: failed`
   (or a 5.x.x status) are permanent failures, `Action: delayed` (4.x.x) temporary ones.
2. Otherwise, for messages that look like bounces (From MAILER-DAEMON/postmaster, a
   multipart/report, or a bounce subject such as "Undelivered Mail Returned to Sender",
   "failure notice", "Mail delivery failed", "Undeliverable"), the human-readable notice is
   searched for the addresses it reports, up to the point where the returned message starts
   (Postfix, Exim, qmail, Sendmail, Exchange, GroupWise, Yahoo, MDaemon, SMTP32 ... forms).
   Addresses that cannot be the failed recipient are left out: the notice's own sender and
   recipients, postmaster and mailer-daemon, list-manager role addresses.

A temporary failure (delay warning) is still `bounce=True` (it is not customer mail and must
not be answered) with `bounce_kind="temporary"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hubdesk.mail.addresses import parse_address_list
from hubdesk.mail.headers import HeaderBlock, display_value
from hubdesk.mail.message_ids import parse_message_id
from hubdesk.mail.types import Address

# Senders that only ever send delivery reports (a strong sign), and postmaster, which also
# writes ordinary mail (a weak one).
_DAEMON_SENDERS = frozenset({"mailer-daemon", "mail-daemon", "mailerdaemon", "mdaemon"})
_WEAK_SENDERS = frozenset({"postmaster"})
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|returned mail|return(?:ed|ing) (?:message|mail) to sender|"
    r"delivery (?:status notification|failure|failed|problem|has failed|notification)|"
    r"mail delivery (?:failed|failure|problem|system|subsystem|warning)|failure notice|"
    r"failure delivery|failed mail|non-?delivery|nondeliverable|not delivered|"
    r"could not be delivered|permanent delivery failure|mail system error|"
    r"message delivery failure|unzustellbar|kunne ikke leveres|ej levererat|"
    r"non remis|no se pudo entregar|delayed|has not yet been delivered|"
    r"delivery (?:status|warning)|warning: could not send",
    re.IGNORECASE,
)
_NOT_A_RECIPIENT_LOCAL = frozenset(
    {"postmaster", "mailer-daemon", "mail-daemon", "mailerdaemon", "mdaemon", "abuse", "root"}
)
_ROLE_SUFFIX = re.compile(r"-(?:bounces|admin|owner|request)(?:\+.*)?$")
_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.-])([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}"
    r"[A-Za-z0-9])?)+)"
)
# Where the returned original message begins in a single-part notice.
_RETURNED_MARKER = re.compile(
    r"^[ \t|*>-]*(?:-{2,}|\|-|\*{3,})?[ \t]*(?:below this line is a copy|"
    r"original message follows|this is a copy of|original message|returned mail|"
    r"unsent message (?:follows|below)|message text follows|message header follows|"
    r"headers of (?:the|your) (?:original|returned) message|undelivered message|"
    r"start of returned message|your message reads)",
    re.IGNORECASE | re.MULTILINE,
)
_RETURNED_HEADERS = re.compile(r"^(?:Received|Return-Path|Message-I[Dd]): ", re.MULTILINE)
_TEMPORARY = re.compile(
    r"\bdelay(?:ed)?\b|not yet (?:been )?delivered|will (?:continue to )?(?:retry|try)|"
    r"attempts will continue|will keep trying|is being retried|has been postponed",
    re.IGNORECASE,
)
# Exchange writes `dda:SMTP=user@host`; DSN-like notices `rfc822;user@host`.
_PREFIX_JUNK = re.compile(r"^(?:smtp|rfc822)[=:;]")
_SUMMARY_LINE = re.compile(r"[ \t>]*(?:to|cc|from|sender|reply-to)[ \t]*:", re.IGNORECASE)
_MESSAGE_ID_LINE = re.compile(r"^Message-I[Dd]:[ \t]*(\S[^\r\n]*)", re.MULTILINE)
_MAX_NOTICE_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class BounceFacts:
    bounce: bool
    kind: str | None
    recipients: tuple[str, ...]
    original_message_id: str | None
    reason: str | None


NOT_A_BOUNCE = BounceFacts(False, None, (), None, None)


def _own_addresses(header: HeaderBlock) -> set[str]:
    found: set[str] = set()
    for name in ("from", "to", "cc", "sender", "reply-to", "return-path", "delivered-to"):
        for value in header.get_all(name):
            found.update(a.email for a in parse_address_list(value).addresses)
    return found


def looks_like_bounce(
    header: HeaderBlock, sender: Address | None, report_type: str | None, subject: str
) -> str | None:
    """Why the message looks like a bounce (the gate for the text detectors), or None.

    `sender` is the strictly parsed From address (None when it did not parse). Reasons
    starting with "weak:" (postmaster, a bounce-like subject) make a bounce only when the
    notice names failed recipients: spam and ordinary mail use such subjects too.
    """
    if report_type == "delivery-status":
        return "multipart/report; report-type=delivery-status"
    local = sender.email.partition("@")[0] if sender is not None else ""
    if local in _DAEMON_SENDERS:
        return f"From: {local}"
    raw_from = (header.get("from") or "").lower()
    if "mailer-daemon" in raw_from or "mail delivery s" in raw_from:
        return "From: mail delivery system"
    if local in _WEAK_SENDERS or "postmaster" in raw_from:
        return "weak: From: postmaster"
    if _BOUNCE_SUBJECT.search(subject):
        return "weak: subject"
    return None


def _valid(address: str) -> bool:
    local, _, domain = address.partition("@")
    if ".." in local or local.startswith(".") or local.endswith("."):
        return False
    if local in _NOT_A_RECIPIENT_LOCAL or _ROLE_SUFFIX.search(local):
        return False
    return "." in domain


def parse_delivery_status(data: str) -> tuple[list[str], list[str]]:
    """(permanently failed, delayed) recipients of an RFC 3464 message/delivery-status body."""
    failed: list[str] = []
    delayed: list[str] = []
    for block in re.split(r"\n[ \t]*\n", data.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        last = ""
        for line in block.split("\n"):
            if line[:1] in (" ", "\t") and last:
                fields[last] += " " + line.strip()
                continue
            name, colon, value = line.partition(":")
            if colon:
                last = name.strip().lower()
                fields.setdefault(last, value.strip())
        # Original-Recipient is the address as we sent it (RFC 3464 2.3.1); Final-Recipient may
        # be a rewritten local mailbox.
        address = ""
        for name in ("original-recipient", "final-recipient"):
            candidate = fields.get(name, "").rpartition(";")[2].strip().strip("<>").strip()
            candidate = candidate.lower()
            if _ADDRESS.fullmatch(candidate) and _valid(candidate):
                address = candidate
                break
        if not address:
            continue
        action = fields.get("action", "").lower().split()[:1]
        status = fields.get("status", "")
        if action == ["failed"] or (not action and status.startswith("5")):
            failed.append(address)
        elif action == ["delayed"] or (not action and status.startswith("4")):
            delayed.append(address)
    return failed, delayed


def _notice_section(text: str) -> str:
    """The notice up to where the returned message starts."""
    text = text[:_MAX_NOTICE_CHARS]
    cut = len(text)
    for pattern in (_RETURNED_MARKER, _RETURNED_HEADERS):
        m = pattern.search(text)
        if m is not None:
            cut = min(cut, m.start())
    return text[:cut]


def addresses_in_notice(text: str, exclude: set[str]) -> list[str]:
    """Failed recipients named in a human-readable bounce notice.

    Addresses on "To:"/"Cc:"/"From:" lines usually describe the returned message (Exchange
    and GroupWise summarise it above the failed recipients); they count only when the
    notice names no other address.
    """
    found: list[str] = []
    summary: list[str] = []
    notice = _notice_section(text)
    for m in _ADDRESS.finditer(notice):
        address = _PREFIX_JUNK.sub("", m.group(1).lower()).strip(".'")
        if address in exclude or not _valid(address) or address in found + summary:
            continue
        line_start = notice.rfind("\n", 0, m.start()) + 1
        if _SUMMARY_LINE.match(notice, line_start):
            summary.append(address)
        else:
            found.append(address)
    return found or summary


def original_message_id(returned_headers: str | None, notice: str) -> str | None:
    """The Message-ID of the returned message (from its headers, else from the notice)."""
    for source in (returned_headers, notice[:200_000]):
        if not source:
            continue
        m = _MESSAGE_ID_LINE.search(source)
        if m is not None:
            value, _ = display_value(m.group(1))
            message_id, _defects = parse_message_id(value)
            if message_id is not None:
                return message_id
    return None


def detect_bounce(
    header: HeaderBlock,
    sender: Address | None,
    subject: str,
    report_type: str | None,
    delivery_status: str | None,
    notice_text: str,
    returned_headers: str | None,
) -> BounceFacts:
    """Bounce facts from the message header, its DSN part and its notice text."""
    gate = looks_like_bounce(header, sender, report_type, subject)
    if delivery_status is not None:
        failed, delayed = parse_delivery_status(delivery_status)
        if failed or delayed or gate:
            kind = "permanent" if failed or not delayed else "temporary"
            recipients = failed or delayed
            if not recipients:
                recipients = addresses_in_notice(notice_text, _own_addresses(header))
            message_id = original_message_id(returned_headers, notice_text)
            return BounceFacts(True, kind, tuple(recipients), message_id, "delivery-status")
    if gate is None:
        return NOT_A_BOUNCE
    recipients = addresses_in_notice(notice_text, _own_addresses(header))
    if gate.startswith("weak: ") and not recipients:
        return NOT_A_BOUNCE
    gate = gate.removeprefix("weak: ")
    temporary = _TEMPORARY.search(subject) or _TEMPORARY.search(_notice_section(notice_text))
    kind = "temporary" if temporary else "permanent"
    message_id = original_message_id(returned_headers, notice_text)
    return BounceFacts(True, kind, tuple(recipients), message_id, gate)
