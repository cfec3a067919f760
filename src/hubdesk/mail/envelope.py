"""The message's own header fields as typed values: ids, subject, addresses, date.

Everything the pipeline reads from the top-level header block, parsed with our linear,
strict parsers (never the stdlib header registry, which is quadratic on long address and
parameter lists - RELIABILITY T03). Problems become defects, not exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hubdesk.mail.addresses import parse_address_list, parse_single_mailbox
from hubdesk.mail.charsets import decode_text
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
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    headers: tuple[tuple[str, str], ...]
    defects: tuple[str, ...]


def _address_text(value: str) -> str:
    """Raw 8-bit bytes in an address field decoded (UTF-8, else windows-1252)."""
    if _SURROGATE.search(value):
        return decode_text(value.encode("utf-8", "surrogateescape"), None).text
    return value


def _address_list(header: HeaderBlock, name: str, defects: list[str]) -> tuple[Address, ...]:
    addresses: list[Address] = []
    for value in header.get_all(name):
        result = parse_address_list(_address_text(value))
        addresses.extend(result.addresses)
        if result.invalid:
            defects.append(f"invalid_address:{name}")
    return tuple(dict.fromkeys(addresses))


def read_envelope(header: HeaderBlock) -> Envelope:
    """Parse the header fields the pipeline needs; never raises on bad input."""
    defects: list[str] = []
    shown: list[tuple[str, str]] = []
    for f in header.fields:
        text, value_defects = display_value(f.value)
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
    subject = clean_subject(subjects[0]) if subjects else ""
    if len(subjects) > 1:
        defects.append("duplicate_subject_field")

    from_values = [_address_text(v) for v in header.get_all("from")]
    from_, from_problem = parse_single_mailbox(from_values)
    if from_problem is not None:
        defects.append("missing_from" if from_problem == "missing" else f"from_{from_problem}")
    sender_values = [_address_text(v) for v in header.get_all("sender")]
    sender, _sender_problem = parse_single_mailbox(sender_values) if sender_values else (None, None)

    dates = header.get_all("date")
    date, date_defects = parse_date(dates[0] if dates else None)
    defects.extend(date_defects)

    return Envelope(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        subject_normalized=normalize_subject(subject),
        from_=from_,
        from_problem=from_problem,
        sender=sender,
        reply_to=_address_list(header, "reply-to", defects),
        to=_address_list(header, "to", defects),
        cc=_address_list(header, "cc", defects),
        date=date,
        headers=tuple(shown),
        defects=tuple(defects),
    )
