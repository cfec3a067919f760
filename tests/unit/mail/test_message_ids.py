"""Message-ID, In-Reply-To and References: normalised to `<left@right>`, garbage tolerated,
and a deterministic synthetic id when the header is missing or unusable."""

from __future__ import annotations

import pytest

from hubdesk.mail.message_ids import parse_id_list, parse_message_id, synthetic_message_id
from tests.unit.mail.builders import message
from tests.unit.mail.conftest import parsed

HEADERS = [("From", "a@customer-a.example"), ("To", "s@h.example"), ("Subject", "x")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@example.com>", "<abc@example.com>"),
        ("  <abc@example.com>  (a comment)", "<abc@example.com>"),
        ("(comment) <abc@example.com>", "<abc@example.com>"),
        ("<abc@ example.com>", "<abc@example.com>"),
        ("<abc@exam\n ple.com>", "<abc@example.com>"),
        ("abc@example.com", "<abc@example.com>"),
        ("<AbC@Example.COM>", "<AbC@Example.COM>"),
    ],
)
def test_message_id_normalisation(value: str, expected: str) -> None:
    """Whitespace and comments are stripped, brackets added, case kept (id-left is
    case-sensitive)."""
    assert parse_message_id(value)[0] == expected


@pytest.mark.parametrize("value", ["", "<>", "garbage", "<not an id>", "<@b>"])
def test_unusable_message_ids(value: str) -> None:
    """Values without a usable id give None and a defect."""
    assert parse_message_id(value) == (None, ("message_id_unusable",))


def test_id_lists_tolerate_garbage_between_ids() -> None:
    """Outlook-style In-Reply-To with dates and phrases; duplicates removed, order kept."""
    value = (
        'Your message of "Mon, 1 Jan 2001" <a@x.example> (note <fake@x>) junk <b@y> <a@x.example>'
    )
    assert parse_id_list(value) == ("<a@x.example>", "<b@y>")
    assert parse_id_list("a@x.example, b@y.example") == ("<a@x.example>", "<b@y.example>")
    assert parse_id_list("") == ()


def test_parsed_message_exposes_threading_ids() -> None:
    """In-Reply-To and References reach ParsedEmail as tuples of normalised ids."""
    p = parsed(
        message(
            headers=[
                *HEADERS,
                ("Message-ID", " <m2@customer-a.example> "),
                ("In-Reply-To", "<m1@hubdesk.example> (from the ticket)"),
                ("References", "<r0@x>\n <m1@hubdesk.example>"),
            ]
        )
    )
    assert p.message_id == "<m2@customer-a.example>"
    assert not p.message_id_synthetic
    assert p.in_reply_to == ("<m1@hubdesk.example>",)
    assert p.references == ("<r0@x>", "<m1@hubdesk.example>")


def test_missing_message_id_gets_a_deterministic_synthetic_id() -> None:
    """No Message-ID: a synthetic id from the content key, the same for the same message
    even when transport headers differ (two deliveries), different for another body."""
    first = parsed(message(b"hello\n", headers=HEADERS, extra=[("Received", "from a by b")]))
    again = parsed(message(b"hello\n", headers=HEADERS, extra=[("Received", "from c by d")]))
    other = parsed(message(b"another body\n", headers=HEADERS))
    assert first.message_id_synthetic
    assert first.message_id == again.message_id
    assert first.message_id != other.message_id
    assert first.message_id.endswith("@synthetic.hubdesk.invalid>")
    assert first.message_id == synthetic_message_id(first.content_key)
    assert "missing_message_id" in first.defects


def test_unusable_message_id_is_replaced_and_recorded() -> None:
    """A Message-ID with no usable id: synthetic id, `message_id_unusable` defect."""
    p = parsed(message(headers=[*HEADERS, ("Message-ID", "<not an id>")]))
    assert p.message_id_synthetic
    assert "message_id_unusable" in p.defects


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<test-reference-id>", "<test-reference-id>"),
        ("<3DlzeX5SbSIeEh0>", "<3DlzeX5SbSIeEh0>"),
        ("<000018e94cd4$0000220a$000063aa@>", "<000018e94cd4$0000220a$000063aa@>"),
        ("<d3b8@0c28@f473e@example.com>", "<d3b8@0c28@f473e@example.com>"),
    ],
)
def test_ids_without_a_domain_are_ids(value: str, expected: str) -> None:
    """Issue 10 class 6: an id in brackets without `@` (or an empty domain) is still an id,
    for the Message-ID (recorded) and in References / In-Reply-To."""
    assert parse_message_id(value) == (expected, ("message_id_no_domain",))
    assert parse_id_list(f"<a@x.example> {value}") == ("<a@x.example>", expected)


def test_parsed_message_keeps_ids_without_a_domain() -> None:
    """They reach ParsedEmail's references and in_reply_to (threading compares strings)."""
    p = parsed(
        message(
            headers=[
                *HEADERS,
                ("Message-ID", "<own-reference-id>"),
                ("In-Reply-To", "<test-reference-id>"),
                ("References", "<r0@x.example> <test-reference-id>"),
            ]
        )
    )
    assert p.message_id == "<own-reference-id>"
    assert not p.message_id_synthetic
    assert p.in_reply_to == ("<test-reference-id>",)
    assert p.references == ("<r0@x.example>", "<test-reference-id>")
    assert "message_id_no_domain" in p.defects
    # Bare words without brackets and without "@" are not ids.
    assert parse_id_list("test-reference-id") == ()
