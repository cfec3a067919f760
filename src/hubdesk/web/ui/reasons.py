"""Why a mail is on its ticket, in the reader's language (pure).

The intake pipeline stores its threading decision's reason as an English sentence
(`hubdesk.intake.threading`) in the email log. The ticket page recognises each sentence's
shape, translates the template (`labels.REASON`) and its parts (where the ticket number was
found, why the sender may add to the ticket), and fills the values back in. A sentence it
does not know (an older or newer wording) is shown as stored.
"""

from __future__ import annotations

import re
from typing import Final

from hubdesk.web.ui import labels
from hubdesk.web.ui.i18n import Translate

_WHERE: Final = "(?P<where>a Message-ID it refers to|its subject)"
_HEADER: Final = "(?P<header>In-Reply-To|References)"
_SHAPES: Final = (
    ("stored", rf"{_HEADER} (?P<id>\S+) is a message stored on the ticket"),
    ("signed", rf"{_HEADER} (?P<id>\S+) is one of our signed Message-IDs for (?P<number>\S+)"),
    ("any", rf"{_WHERE} names (?P<number>\S+) \(TICKET_THREADING_POLICY=any\)"),
    ("participant", rf"{_WHERE} names (?P<number>\S+) and the sender (?P<why>.+)"),
    (
        "refused",
        rf"{_WHERE} names (?P<number>\S+), but the sender (?P<sender>\S+) takes no part in "
        "that ticket; a new ticket was opened instead",
    ),
    ("missing", r"it names (?P<numbers>.+), which does not exist"),
    ("nothing", r"no In-Reply-To, References or subject token matched a ticket"),
)
_COMPILED: Final = tuple((key, re.compile(rf"\A{shape}\Z")) for key, shape in _SHAPES)
_DOMAIN: Final = re.compile(r"\Ais of the ticket customer's domain (?P<domain>\S+)\Z")


def why_here(reason: str, _: Translate) -> str:
    """`reason` as stored, translated when its shape is known."""
    for key, pattern in _COMPILED:
        found = pattern.match(reason)
        if found is None:
            continue
        fields = found.groupdict()
        if "where" in fields:
            fields["where"] = _(labels.REASON_WHERE[fields["where"]])
        if "why" in fields:
            fields["why"] = _why(fields["why"], _)
        return _(labels.REASON[key], **fields)
    return reason


def _why(text: str, _: Translate) -> str:
    if text in labels.REASON_WHY:
        return _(labels.REASON_WHY[text])
    domain = _DOMAIN.match(text)
    if domain is not None:
        return _(labels.REASON_WHY["domain"], domain=domain.group("domain"))
    return text
