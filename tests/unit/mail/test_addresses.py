"""Strict address parsing (RELIABILITY design rule 2, T21): the identity is the addr-spec,
never the display name; anything ambiguous gives no identity rather than a wrong one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubdesk.mail.addresses import parse_address_list, parse_single_mailbox
from hubdesk.mail.types import Address
from tests.unit.mail.builders import message
from tests.unit.mail.conftest import parsed


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("alice@customer-a.com)<bob@evil>", "unparseable"),
        ("alice@customer-a.com,bob@evil", "multiple_addresses"),
        ("alice@customer-a.com <bob@evil>", "unparseable"),
        ("=?utf-8?q?alice@customer-a.com_<alice@customer-a.com>?= <mallory@evil>", "unparseable"),
        ("<alice@customer-a.com> <bob@evil>", "unparseable"),
        ("alice@customer-a.com <bob@evil> <carol@x>", "unparseable"),
        ("Alice <alice@customer-a.com", "unparseable"),
        ('"Alice <alice@customer-a.com>', "unparseable"),
        ("friends: alice@customer-a.com, bob@evil;", "group"),
        ("undisclosed-recipients:;", "empty"),
        ("", "empty"),
        ("MAILER-DAEMON", "unparseable"),
        ("alice@@customer-a.com", "unparseable"),
        ("alice..b@customer-a.com", "unparseable"),
        ("(((((((((((((((((((((((((((((((((((a", "unparseable"),
    ],
)
def test_ambiguous_from_gives_no_identity(value: str, problem: str) -> None:
    """T21: each ambiguous or broken From yields from_=None with a reason."""
    address, found = parse_single_mailbox([value])
    assert address is None
    assert found == problem


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"alice@customer-a.com" <mallory@evil>', Address("alice@customer-a.com", "mallory@evil")),
        (
            "=?utf-8?q?alice=40customer-a.com_=3Calice=40customer-a.com=3E?= <mallory@evil>",
            Address("alice@customer-a.com <alice@customer-a.com>", "mallory@evil"),
        ),
        ("Alice Example <Alice@Customer-A.com>", Address("Alice Example", "alice@customer-a.com")),
        ("alice@customer-a.com", Address("", "alice@customer-a.com")),
        ("alice@customer-a.com (Alice Example)", Address("Alice Example", "alice@customer-a.com")),
        ("alice@customer-a.com <alice@customer-a.com>", Address("", "alice@customer-a.com")),
        ('"Doe, John" <john@doe.example>', Address("Doe, John", "john@doe.example")),
        ("John Q. Public <jqp@x.example>", Address("John Q. Public", "jqp@x.example")),
        ("=?iso-8859-1?q?J=F8rgen?= Hansen <jh@x.dk>", Address("Jørgen Hansen", "jh@x.dk")),
        ('"quoted local"@x.example', Address("", '"quoted local"@x.example')),
        ("<user@[192.0.2.1]>", Address("", "user@[192.0.2.1]")),
        ("Mary <@relay.example:mary@x.example>", Address("Mary", "mary@x.example")),
        ("<@a.example,@b.example:u@c.example>", Address("", "u@c.example")),
    ],
)
def test_unambiguous_from_gives_the_true_address(value: str, expected: Address) -> None:
    """The addr-spec is the identity (lowercased); the display name is text only."""
    assert parse_single_mailbox([value]) == (expected, None)


def test_two_from_fields_are_ambiguous() -> None:
    """Two From header fields: no identity."""
    assert parse_single_mailbox(["a@x.example", "b@y.example"]) == (None, "multiple_fields")
    assert parse_single_mailbox([]) == (None, "missing")


def test_parse_email_reports_from_problem_and_defect() -> None:
    """The parser exposes the reason and records a defect; the refused From is not read, and
    Reply-To answers instead, marked as a fallback (`sender_source`)."""
    p = parsed(
        message(
            headers=[
                ("From", "alice@customer-a.com)<bob@evil>"),
                ("Reply-To", "Alice <alice@customer-a.com>"),
                ("Subject", "x"),
            ]
        )
    )
    assert p.from_ == Address("Alice", "alice@customer-a.com")
    assert p.sender_source == "reply_to"
    assert p.from_problem == "unparseable"
    assert "from_unparseable" in p.defects
    assert p.reply_to == (Address("Alice", "alice@customer-a.com"),)
    missing = parsed(message(headers=[("Subject", "no sender")]))
    assert missing.from_ is None
    assert missing.from_problem == "missing"


def test_address_lists_keep_the_valid_and_count_the_broken() -> None:
    """To/Cc: valid mailboxes kept, broken elements counted (and recorded as a defect)."""
    result = parse_address_list('a@x.example, "B, C" <b@y.example>, broken@, grp: c@z.example;')
    assert [a.email for a in result.addresses] == ["a@x.example", "b@y.example", "c@z.example"]
    assert result.invalid == 1
    p = parsed(message(extra=[("Cc", "ok@x.example, <<bad>>")]))
    assert [a.email for a in p.cc] == ["ok@x.example"]
    assert "invalid_address:cc" in p.defects


_ATEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_+", min_size=1, max_size=10)
_ADDRESSES = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    _ATEXT,
    _ATEXT.filter(lambda d: not d.startswith("-")),
    st.sampled_from(["com", "dk", "example", "org"]),
)
_NAME_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"),
    max_size=30,
)


def _display_forms(name: str, fake: str, real: str) -> list[str]:
    """Ways an attacker can put `fake` into the display name in front of `real`."""
    quoted = (name + " " + fake).replace("\\", "\\\\").replace('"', '\\"')
    encoded = "".join(f"={b:02X}" for b in f"{name} <{fake}>".encode())
    return [
        f'"{quoted}" <{real}>',
        f"=?utf-8?q?{encoded}?= <{real}>",
        f'"{fake}" <{real}>',
        f"{fake} <{real}>",
        f"{name} {fake} <{real}>",
        f"{fake}) <{real}>",
        f"{fake}, {real}",
        f"<{fake}> {real}",
        f"{real} ({fake})",
        f'"{name}" <{fake}> <{real}>',
    ]


def _check_identity(name: str, fake: str, real: str) -> None:
    for value in _display_forms(name, fake, real):
        address, problem = parse_single_mailbox([value])
        if address is None:
            assert problem is not None
            continue
        if fake.lower() != real.lower():
            assert address.email != fake.lower(), value
        assert address.email == real.lower(), value


@settings(max_examples=300, deadline=None)
@given(name=_NAME_TEXT, fake=_ADDRESSES, real=_ADDRESSES)
def test_identity_is_never_an_address_from_the_display_name(
    name: str, fake: str, real: str
) -> None:
    """T21 property: for generated display names and addresses, the parsed identity is
    either None or the real address - never an address that appears only in the display
    name."""
    _check_identity(name, fake, real)


@settings(max_examples=20_000, deadline=None)
@given(name=_NAME_TEXT, fake=_ADDRESSES, real=_ADDRESSES)
@pytest.mark.long
def test_identity_property_long_run(name: str, fake: str, real: str) -> None:
    """The T21 property over 20,000 generated cases (long run)."""
    _check_identity(name, fake, real)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_address_parser(value: str) -> None:
    """Any header text gives an identity or a reason, never an exception."""
    address, problem = parse_single_mailbox([value])
    assert (address is None) != (problem is None)
    parse_address_list(value)
