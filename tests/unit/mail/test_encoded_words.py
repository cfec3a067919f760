"""Encoded-words read as mail clients read them (issue 10, class 3): spaces inside the
encoded text, a leading space, multi-byte characters split across adjacent words, commas
and quotes inside an encoded display name."""

from __future__ import annotations

import pytest

from hubdesk.mail.addresses import parse_single_mailbox
from hubdesk.mail.rfc2047 import decode_encoded_words
from hubdesk.mail.types import Address
from tests.support.timing import assert_linear
from tests.unit.mail.builders import message
from tests.unit.mail.conftest import parsed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?us-ascii?Q?ABC / 123?=", "ABC / 123"),
        ("=?utf-8?Q? Leading space?=", " Leading space"),
        ("=?utf-8?B? SGVq IHZlcmRlbg==?=", "Hej verden"),
        ("Re: =?iso-8859-1?Q?Caf=E9 au lait?= ok", "Re: Café au lait ok"),
        # "日本" in UTF-8 (e6 97 a5 e6 9c ac) split inside the second character.
        ("=?utf-8?B?5pel5g==?= =?UTF-8?B?nKw=?=", "日本"),
        ("=?utf-8?Q?=E6=97=A5=E6?= =?utf-8?Q?=9C=AC?=", "日本"),
        # Different charsets are not joined.
        ("=?iso-8859-1?Q?=E6?= =?utf-8?Q?=C3=B8?=", "æø"),
    ],
)
def test_lenient_encoded_words(value: str, expected: str) -> None:
    text, _ = decode_encoded_words(value)
    assert text == expected


def test_question_mark_still_ends_the_encoded_text() -> None:
    """Spaces are allowed, but a word never runs past its `?=`; plain text is untouched."""
    assert decode_encoded_words("=?utf-8?Q?a b?= c =?utf-8?Q?d?=")[0] == "a b c d"
    assert decode_encoded_words("What =? is this ?= thing")[0] == "What =? is this ?= thing"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?iso-8859-1?Q?M=FCller,=20Hans?= <hans@customer-a.example>", "Müller, Hans"),
        ('=?iso-8859-1?Q?"M=FCller"?= <hans@customer-a.example>', '"Müller"'),
        ("=?utf-8?B?TcO8bGxlciwgSGFucw==?= <hans@customer-a.example>", "Müller, Hans"),
        ("=?us-ascii?Q?Support / Sales?= <hans@customer-a.example>", "Support / Sales"),
    ],
)
def test_encoded_display_name_with_comma_stays_one_name(value: str, expected: str) -> None:
    """A comma or quote inside an encoded display name does not split the mailbox."""
    assert parse_single_mailbox([value]) == (Address(expected, "hans@customer-a.example"), None)
    p = parsed(message(headers=[("From", value), ("To", value), ("Subject", "s")]))
    assert p.from_ == Address(expected, "hans@customer-a.example")
    assert p.sender_source == "from"
    assert p.to == (Address(expected, "hans@customer-a.example"),)


def test_subject_with_spaces_inside_a_word() -> None:
    p = parsed(message(headers=[("From", "a@x.example"), ("Subject", "=?us-ascii?Q?ABC / 123?=")]))
    assert p.subject == "ABC / 123"


def test_spaced_words_are_linear() -> None:
    """Long runs of (possibly unterminated) spaced words stay linear."""
    assert_linear(decode_encoded_words, "=?utf-8?Q?a b c?= " * 2_000, "=?utf-8?Q?a b c?= " * 20_000)
    assert_linear(decode_encoded_words, "=?utf-8?Q?a b " * 2_000, "=?utf-8?Q?a b " * 20_000)
