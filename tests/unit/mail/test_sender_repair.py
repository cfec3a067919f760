"""Malformed From headers a human can still read yield a sender, with the repair recorded;
a truly ambiguous From keeps its refusal and the sender falls back to Sender, Reply-To,
Return-Path, with `sender_source` saying which (issue 10, class 4)."""

from __future__ import annotations

import pytest

from hubdesk.mail.addresses import repair_mailbox
from hubdesk.mail.types import Address
from tests.support.timing import assert_linear
from tests.unit.mail.builders import message
from tests.unit.mail.conftest import parsed


@pytest.mark.parametrize(
    ("value", "expected", "reason"),
    [
        (
            "Smith, Anna <anna@customer-a.example>",
            Address("Smith, Anna", "anna@customer-a.example"),
            "unquoted_comma",
        ),
        (
            "a@customer-a.example, b@customer-b.example",
            Address("", "a@customer-a.example"),
            "multiple_addresses",
        ),
        (
            "Anna <anna@customer-a.example>, bo@customer-b.example",
            Address("Anna", "anna@customer-a.example"),
            "multiple_addresses",
        ),
        (
            "a@customer-a.example b@customer-b.example",
            Address("", "a@customer-a.example"),
            "multiple_addresses",
        ),
        ("anna@customer-a.example.", Address("", "anna@customer-a.example"), "trailing_dot"),
        (
            "Anna <anna@customer-a.example.>",
            Address("Anna", "anna@customer-a.example"),
            "trailing_dot",
        ),
        (
            "Anna <anna@customer-a.example",
            Address("Anna", "anna@customer-a.example"),
            "missing_angle_bracket",
        ),
        ("MAILER-DAEMON", Address("", "mailer-daemon"), "no_domain"),
        (
            "Mail Delivery System <MAILER-DAEMON>",
            Address("Mail Delivery System", "mailer-daemon"),
            "no_domain",
        ),
        (
            '"anna@customer-a.example"',
            Address("", "anna@customer-a.example"),
            "address_in_display_name",
        ),
        (
            '"anna@customer-a.example" <>',
            Address("", "anna@customer-a.example"),
            "address_in_display_name",
        ),
        (
            "Anna Berg anna@customer-a.example",
            Address("Anna Berg", "anna@customer-a.example"),
            "unbracketed_address",
        ),
        (
            'Dept: "x" <anna@customer-a.example>',
            Address("Dept: x", "anna@customer-a.example"),
            "display_name_syntax",
        ),
    ],
)
def test_readable_from_is_repaired(value: str, expected: Address, reason: str) -> None:
    """Each shape gives the address a human reads, and names the repair."""
    assert repair_mailbox(value) == (expected, reason)


@pytest.mark.parametrize(
    "value",
    [
        "alice@customer-a.example <bob@evil.example>",
        "alice@customer-a.example)<bob@evil.example>",
        "<alice@customer-a.example> <bob@evil.example>",
        "alice@customer-a.example <bob@evil.example> <carol@x.example>",
        "alice@@customer-a.example",
        "friends: a@x.example;",
        "",
    ],
)
def test_ambiguous_from_is_not_repaired(value: str) -> None:
    """A name holding another address, unbalanced syntax, a group: still refused."""
    assert repair_mailbox(value) is None


def _from(value: str, *extra: tuple[str, str]) -> bytes:
    return message(headers=[("From", value), ("Subject", "s"), *extra])


def test_repaired_from_is_the_sender_with_a_defect() -> None:
    """A repaired From is `from_`, no `from_problem`, source `from_repaired`, reason kept."""
    p = parsed(_from("Smith, Anna <anna@customer-a.example>"))
    assert p.from_ == Address("Smith, Anna", "anna@customer-a.example")
    assert p.from_problem is None
    assert p.sender_source == "from_repaired"
    assert p.from_repair == "unquoted_comma"
    assert "from_repaired:unquoted_comma" in p.defects


def test_clean_from_says_so() -> None:
    p = parsed(_from("Anna <anna@customer-a.example>", ("Reply-To", "x@y.example")))
    assert p.sender_source == "from"
    assert p.from_repair is None
    assert not [d for d in p.defects if d.startswith(("from_", "sender_fallback"))]


@pytest.mark.parametrize(
    ("extra", "address", "source"),
    [
        (
            [("Sender", "list@customer-a.example"), ("Reply-To", "r@x.example")],
            "list@customer-a.example",
            "sender",
        ),
        ([("Reply-To", "Anna <anna@customer-a.example>")], "anna@customer-a.example", "reply_to"),
        (
            [("Return-Path", "<bounce@customer-a.example>")],
            "bounce@customer-a.example",
            "return_path",
        ),
    ],
)
def test_ambiguous_from_falls_back_in_order(
    extra: list[tuple[str, str]], address: str, source: str
) -> None:
    """The refusal is kept (`from_problem`), and Sender > Reply-To > Return-Path answers."""
    p = parsed(_from("alice@customer-a.example <bob@evil.example>", *extra))
    assert p.from_problem == "unparseable"
    assert "from_unparseable" in p.defects
    assert p.from_ is not None
    assert p.from_.email == address
    assert p.sender_source == source
    assert f"sender_fallback:{source}" in p.defects


def test_no_fallback_means_no_sender() -> None:
    """Nothing usable anywhere (Return-Path `<>`): no sender, source None."""
    p = parsed(_from("alice@customer-a.example <bob@evil.example>", ("Return-Path", "<>")))
    assert p.from_ is None
    assert p.sender_source is None
    missing = parsed(message(headers=[("Subject", "no sender")]))
    assert missing.from_ is None
    assert missing.from_problem == "missing"
    assert missing.sender_source is None


def test_two_from_fields_with_one_address_are_read() -> None:
    """The same From twice is one sender; two different ones fall back."""
    same = parsed(_from("a@x.example", ("From", "A <a@x.example>")))
    assert same.from_ == Address("", "a@x.example")
    assert same.from_repair == "duplicate_from_fields"
    other = parsed(_from("a@x.example", ("From", "b@y.example"), ("Reply-To", "r@z.example")))
    assert other.from_problem == "multiple_fields"
    assert other.sender_source == "reply_to"


def test_domainless_address_has_no_domain() -> None:
    assert Address("", "mailer-daemon").domain == ""
    assert Address("", "a@x.example").domain == "x.example"


def test_repair_is_linear() -> None:
    """Long broken From values cost linear time (no new quadratic path)."""

    def run(value: str) -> object:
        return repair_mailbox(value)

    unit = "Smith, Anna, "
    assert_linear(run, unit * 2_000 + "<a@x.example>", unit * 20_000 + "<a@x.example>")
    words = "a@x.example "
    assert_linear(run, words * 2_000, words * 20_000)
    assert_linear(run, "x" * 20_000 + " <y", "x" * 200_000 + " <y")


def test_list_with_an_ambiguous_looking_tail_takes_the_first() -> None:
    """Several valid mailboxes, the last one in angle brackets: the first is meant."""
    value = 'a@customer-a.example, "B" <b@customer-b.example>'
    assert repair_mailbox(value) == (Address("", "a@customer-a.example"), "multiple_addresses")
