"""The message's own header fields as typed values: ids, subject, addresses, date.

Everything the pipeline reads from the top-level header block, parsed with our linear,
strict parsers (never the stdlib header registry, which is quadratic on long address and
parameter lists - RELIABILITY T03). Problems become defects, not exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hubdesk.mail.addresses import parse_address_list, parse_single_mailbox, repair_mailbox
from hubdesk.mail.charsets import decode_text, guess_header_charset
from hubdesk.mail.dates import parse_date
from hubdesk.mail.headers import HeaderBlock, display_value
from hubdesk.mail.message_ids import parse_id_list, parse_message_id
from hubdesk.mail.subject import clean_subject, normalize_subject
from hubdesk.mail.types import Address

_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True, slots=True)
class Envelope:
    """Typed values of the top-level header fields."""

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    subject_normalized: str
    from_: Address | None
    from_problem: str | None
    sender_source: str | None
    from_repair: str | None
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    headers: tuple[tuple[str, str], ...]
    defects: tuple[str, ...]
    header_charset: str | None = None
    """The codec raw 8-bit header bytes were read with, when one was guessed."""


def _address_text(value: str, charset: str | None = None) -> str:
    """Raw 8-bit bytes in an address field decoded (the message's header charset when one
    was guessed, else UTF-8, else windows-1252)."""
    if _SURROGATE.search(value):
        return decode_text(value.encode("utf-8", "surrogateescape"), charset).text
    return value


def _address_list(
    header: HeaderBlock, name: str, defects: list[str], charset: str | None = None
) -> tuple[Address, ...]:
    addresses: list[Address] = []
    for value in header.get_all(name):
        result = parse_address_list(_address_text(value, charset))
        addresses.extend(result.addresses)
        if result.invalid:
            defects.append(f"invalid_address:{name}")
    return tuple(dict.fromkeys(addresses))


@dataclass(frozen=True, slots=True)
class SenderChoice:
    """Who the message is from, and how sure we are.

    `source`: `from` (a clean From), `from_repaired` (a From read after a repair named by
    `repair`), `sender`, `reply_to` or `return_path` (the From was refused for `problem`
    and that header answered instead), or None (nobody to answer).
    """

    address: Address | None
    source: str | None
    problem: str | None
    repair: str | None


def _return_path(values: list[str]) -> Address | None:
    if not values:
        return None
    text = _address_text(values[-1]).strip()
    if text in ("", "<>"):
        return None
    address, _ = parse_single_mailbox([text])
    return address if address is not None and "@" in address.email else None


def choose_sender(
    from_values: list[str],
    sender: Address | None,
    reply_to: tuple[Address, ...],
    return_path: list[str],
) -> SenderChoice:
    """The From when it reads cleanly; else a repaired From when a human reads it without
    doubt; else (the refusal kept in `problem`) Sender, then Reply-To, then Return-Path."""
    address, problem = parse_single_mailbox(from_values)
    if address is not None:
        return SenderChoice(address, "from", None, None)
    if problem == "multiple_fields":
        found = [parse_single_mailbox([v])[0] for v in from_values]
        first = found[0]
        if first is not None and all(a is not None and a.email == first.email for a in found):
            return SenderChoice(first, "from_repaired", None, "duplicate_from_fields")
    elif problem in ("unparseable", "multiple_addresses"):
        repaired = repair_mailbox(from_values[0])
        if repaired is not None:
            return SenderChoice(repaired[0], "from_repaired", None, repaired[1])
    if sender is not None:
        return SenderChoice(sender, "sender", problem, None)
    if reply_to:
        return SenderChoice(reply_to[0], "reply_to", problem, None)
    fallback = _return_path(return_path)
    if fallback is not None:
        return SenderChoice(fallback, "return_path", problem, None)
    return SenderChoice(None, None, problem, None)


def read_envelope(header: HeaderBlock, body_charsets: tuple[str, ...] = ()) -> Envelope:
    """Parse the header fields the pipeline needs; never raises on bad input.

    `body_charsets`: the charsets the message's parts declare, the first guess for raw
    8-bit header bytes (then detection); the guess is recorded as a defect.
    """
    defects: list[str] = []
    raw_8bit = [
        f.value.encode("utf-8", "surrogateescape")
        for f in header.fields
        if _SURROGATE.search(f.value)
    ]
    guess = guess_header_charset(raw_8bit, body_charsets) if raw_8bit else None
    cs = guess.codec if guess is not None else None
    if guess is not None:
        defects.append(guess.defect)
    shown: list[tuple[str, str]] = []
    for f in header.fields:
        text, value_defects = display_value(f.value, cs)
        shown.append((f.name, text))
        defects.extend(value_defects)

    message_id: str | None = None
    ids = header.get_all("message-id")
    if not ids:
        defects.append("missing_message_id")
    else:
        if len(ids) > 1:
            defects.append("duplicate_message_id_field")
        message_id, id_defects = parse_message_id(ids[0])
        defects.extend(id_defects)
    in_reply_to = parse_id_list(" ".join(header.get_all("in-reply-to")))
    references = parse_id_list(" ".join(header.get_all("references")))

    subjects = header.get_all("subject")
    subject = clean_subject(subjects[0], cs) if subjects else ""
    if len(subjects) > 1:
        defects.append("duplicate_subject_field")

    from_values = [_address_text(v, cs) for v in header.get_all("from")]
    sender_values = [_address_text(v, cs) for v in header.get_all("sender")]
    sender, _sender_problem = parse_single_mailbox(sender_values) if sender_values else (None, None)
    reply_to = _address_list(header, "reply-to", defects, cs)
    choice = choose_sender(from_values, sender, reply_to, header.get_all("return-path"))
    if choice.problem is not None:
        defects.append("missing_from" if choice.problem == "missing" else f"from_{choice.problem}")
    if choice.repair is not None:
        defects.append(f"from_repaired:{choice.repair}")
    if choice.source not in (None, "from", "from_repaired"):
        defects.append(f"sender_fallback:{choice.source}")

    dates = header.get_all("date")
    date, date_defects = parse_date(dates[0] if dates else None)
    defects.extend(date_defects)

    return Envelope(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        subject_normalized=normalize_subject(subject),
        from_=choice.address,
        from_problem=choice.problem,
        sender_source=choice.source,
        from_repair=choice.repair,
        sender=sender,
        reply_to=reply_to,
        to=_address_list(header, "to", defects, cs),
        cc=_address_list(header, "cc", defects, cs),
        date=date,
        headers=tuple(shown),
        defects=tuple(defects),
        header_charset=cs,
    )
