"""The formats the OpenAPI document declares are the ones the services accept (RELIABILITY T25).

For each pattern in `hubdesk.api.limits`, hypothesis generates strings that match it (as a
client generated from the document would send) and strings that do not, and the service
that checks the value must accept exactly the first kind. A drift either way is what the
long schemathesis pass found: a valid value refused, or an invalid one stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hubdesk.api.limits import (
    CURRENCY_PATTERN,
    DOMAIN_PATTERN,
    LABEL_PATTERN,
    PLAIN_ADDRESS_PATTERN,
    SECRET_NAME_PATTERN,
    TAG_PATTERN,
    WORD_CHAR_OR_HYPHEN,
)
from hubdesk.customers.service import FREEMAIL_DOMAINS, normalize_domain
from hubdesk.errors import ValidationFailed
from hubdesk.mail.compose import UnsafeAddress, plain_address
from hubdesk.mailboxes.secrets import check_name
from hubdesk.outbox.autoreply import check_template
from hubdesk.outbox.router import TEMPLATE_TEXT
from hubdesk.prepaid.service import _CURRENCY
from hubdesk.priority.schemas import KEYWORD_PATTERN
from hubdesk.priority.service import clean_word
from hubdesk.tickets.concurrency import IF_MATCH_PATTERN, version_from_etag
from hubdesk.tickets.tags import MAX_TAG_LENGTH, normalize_tag

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _matching(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(re.compile(pattern))


def _not_matching(pattern: str) -> st.SearchStrategy[str]:
    compiled = re.compile(pattern)
    return st.text(max_size=80).filter(lambda value: compiled.search(value) is None)


@EXAMPLES
@given(_matching(TAG_PATTERN))
def test_every_declared_tag_is_accepted(raw: str) -> None:
    tag = normalize_tag(raw)
    assert 1 <= len(tag) <= MAX_TAG_LENGTH
    assert re.fullmatch(f"{WORD_CHAR_OR_HYPHEN}+", tag)


@EXAMPLES
@given(_not_matching(TAG_PATTERN))
def test_every_undeclared_tag_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        normalize_tag(raw)


def test_a_tag_keeps_a_letter_whose_lowercase_is_two_characters() -> None:
    """`İ` lowercases to `i` plus a combining dot, which is not a word character: the letter
    keeps its case, so the tag stays valid and no longer than it was."""
    assert normalize_tag("#İstanbul") == "İstanbul"
    assert normalize_tag("İ" * MAX_TAG_LENGTH) == "İ" * MAX_TAG_LENGTH


@EXAMPLES
@given(_matching(SECRET_NAME_PATTERN))
def test_every_declared_secret_name_is_accepted(raw: str) -> None:
    assert check_name(raw) == raw.strip()


@EXAMPLES
@given(_not_matching(SECRET_NAME_PATTERN))
def test_every_undeclared_secret_name_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        check_name(raw)


@EXAMPLES
@given(_matching(IF_MATCH_PATTERN))
def test_every_declared_if_match_is_read(raw: str) -> None:
    version = version_from_etag(raw)
    assert version is None or version >= 0


@EXAMPLES
@given(_not_matching(IF_MATCH_PATTERN))
def test_every_undeclared_if_match_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        version_from_etag(raw)


@EXAMPLES
@given(_matching(DOMAIN_PATTERN).filter(lambda value: len(value) <= 253))
def test_every_declared_ascii_domain_is_accepted(raw: str) -> None:
    """An ASCII domain the pattern matches is accepted (free-mail domains aside); one beyond
    ASCII may still break IDNA's rules and is then refused, saying so."""
    refused = ""
    try:
        domain = normalize_domain(raw)
    except ValidationFailed as exc:
        refused = str(exc)
    if refused:
        allowed = ("free-mail",) if raw.isascii() else ("free-mail", "internationalised")
        assert any(reason in refused for reason in allowed), (raw, refused)
        return
    assume(domain not in FREEMAIL_DOMAINS)
    assert domain.isascii()
    assert domain == domain.lower()


@EXAMPLES
@given(_not_matching(DOMAIN_PATTERN))
def test_every_undeclared_domain_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        normalize_domain(raw)


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        (" @Example.COM. ", "example.com"),
        ("rødgrød.dk", "xn--rdgrd-vuad.dk"),
        ("sub.example.co.uk", "sub.example.co.uk"),
    ],
)
def test_domains_are_normalised(raw: str, domain: str) -> None:
    assert normalize_domain(raw) == domain


@EXAMPLES
@given(_matching(LABEL_PATTERN), _not_matching(LABEL_PATTERN))
def test_labels_match_the_declared_pattern_exactly(good: str, bad: str) -> None:
    """The classifier's label check is the declared pattern itself."""
    from hubdesk.classifier.service import _LABEL

    assert _LABEL.match(good)
    assert not _LABEL.match(bad)
    assert not re.search(LABEL_PATTERN, "_-_")  # at least one letter or digit


@EXAMPLES
@given(st.one_of(_matching(TEMPLATE_TEXT["pattern"]), st.text(max_size=40)))
def test_template_texts_match_the_declared_pattern_exactly(text: str) -> None:
    """A mail template is accepted exactly when it matches the pattern: not blank, braces
    only as `{ticket_number}` or doubled."""
    declared = re.search(TEMPLATE_TEXT["pattern"], text) is not None
    try:
        check_template(text)
    except ValueError:
        accepted = False
    else:
        accepted = bool(text.strip())
    assert accepted == declared, text


@EXAMPLES
@given(st.one_of(_matching(CURRENCY_PATTERN), st.text(max_size=8)))
def test_currencies_match_the_declared_pattern_exactly(raw: str) -> None:
    assert bool(re.search(CURRENCY_PATTERN, raw)) == bool(_CURRENCY.match(raw))


@EXAMPLES
@given(st.text(min_size=1, max_size=64))
def test_keywords_match_the_declared_pattern_exactly(raw: str) -> None:
    declared = re.search(KEYWORD_PATTERN, raw) is not None
    try:
        clean_word(raw)
    except ValidationFailed:
        assert not declared, raw
    else:
        assert declared, raw


def _declared(pattern: str, value: str) -> bool:
    """What a client validating with the document (ECMA-262 semantics) says of `value`."""
    return bool(jsonschema_rs.validator_for({"type": "string", "pattern": pattern}).is_valid(value))


def _accepted(check: Callable[[str], object], value: str) -> bool:
    try:
        check(value)
    except ValidationFailed:
        return False
    return True


@pytest.mark.parametrize(
    ("pattern", "check", "value", "expected"),
    [
        # The long pass: a keyword of a letter beyond ASCII counted as schema-invalid
        # (ECMA-262's `\w` is ASCII) and was accepted.
        (KEYWORD_PATTERN, clean_word, "ê…", True),
        (KEYWORD_PATTERN, clean_word, "—…", True),
        (KEYWORD_PATTERN, clean_word, "__", False),
        (KEYWORD_PATTERN, clean_word, "\u200b\xad", False),
        # ... and a domain beyond ASCII judged differently: `\s` is another set of spaces in
        # each reading (Python's has U+001C-U+001F and U+0085; ECMA-262's has U+FEFF, which
        # the document now counts as a character of a name beyond ASCII, for IDNA to judge).
        (DOMAIN_PATTERN, normalize_domain, "\x1cexample.com", True),
        (DOMAIN_PATTERN, normalize_domain, "example.com\x85", True),
        (DOMAIN_PATTERN, normalize_domain, "example.com\n", True),
        (TAG_PATTERN, normalize_tag, "#Café", True),
        (TAG_PATTERN, normalize_tag, "Ærø-2", True),
        (TAG_PATTERN, normalize_tag, "x\u200by", False),
        (TAG_PATTERN, normalize_tag, "\ufeffx", False),
        (TAG_PATTERN, normalize_tag, " billing\u3000", True),
    ],
)
def test_the_document_and_the_service_agree_where_ecma_262_and_python_part(
    pattern: str, check: Callable[[str], object], value: str, expected: bool
) -> None:
    assert _declared(pattern, value) == expected
    assert _accepted(check, value) == expected


@pytest.mark.parametrize(
    ("label", "expected"), [("forespørgsel", True), ("€", True), ("_-", False)]
)
def test_labels_beyond_ascii_agree(label: str, expected: bool) -> None:
    from hubdesk.classifier.service import _LABEL

    assert _declared(LABEL_PATTERN, label) == expected
    assert bool(_LABEL.match(label)) == expected


@EXAMPLES
@given(
    st.one_of(
        _matching(PLAIN_ADDRESS_PATTERN),
        st.text(max_size=40),
        st.from_regex(r"\A[a-z.]{0,70}@[a-z0-9.-]{0,12}\Z"),
    )
)
def test_reply_addresses_match_the_declared_pattern_exactly(raw: str) -> None:
    """A reply's Cc (found by the long pass on PostgreSQL: `cc` was any text, and the
    service refused what it cannot send)."""
    declared = re.search(PLAIN_ADDRESS_PATTERN, raw) is not None
    try:
        plain_address(raw)
    except UnsafeAddress:
        accepted = False
    else:
        accepted = True
    assert accepted == declared, raw
