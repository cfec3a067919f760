"""Tags and priority, as the spec's Automatic Features describe them."""

from __future__ import annotations

import pytest

from hubdesk.intake.extract import detect_priority, extract, extract_tags
from tests.support.timing import assert_linear


def test_spec_example_tags() -> None:
    """'We need help with #billing #urgent issue' gives the tags billing and urgent."""
    assert extract_tags("We need help with #billing #urgent issue") == ("billing", "urgent")


def test_tags_are_lowercased_deduplicated_and_at_least_three_characters() -> None:
    """#AB is too short; #Billing and #billing are one tag."""
    assert extract_tags("#AB #Billing #billing #ok #server") == ("billing", "server")


def test_at_most_ten_tags() -> None:
    """Only the first ten distinct hashtags become tags."""
    text = " ".join(f"#tag{i:02d}" for i in range(15))
    assert extract_tags(text) == tuple(f"tag{i:02d}" for i in range(10))


def test_danish_letters_are_tag_letters() -> None:
    """#fejlsøgning and #Æbler keep their Danish letters."""
    assert extract_tags("Hjælp #fejlsøgning #Æbler") == ("fejlsøgning", "æbler")


@pytest.mark.parametrize(
    "text",
    ["order #12345", "see http://example.com/page#section", "colour:#fff", "a#bcd", "##"],
)
def test_not_hashtags(text: str) -> None:
    """Numbers, URL fragments and words glued to a '#' are not tags."""
    assert extract_tags(text) == ()


@pytest.mark.parametrize(
    ("subject", "tags", "expected"),
    [
        ("URGENT: Server down!", (), "critical"),
        ("Serveren er nede", (), "critical"),
        ("Akut problem", (), "critical"),
        ("Vigtig opdatering", (), "high"),
        ("Det haster", (), "high"),
        ("Important: invoice", (), "high"),
        ("Et spørgsmål om faktura", (), "low"),
        ("Quick question", (), "low"),
        ("Help with network issue", (), "normal"),
        ("Production issue", ("critical", "server"), "critical"),
        ("Question, but the site is down", (), "critical"),
        ("Downloads are slow", (), "normal"),
        ("Information please", (), "normal"),
        ("KRITISK fejl", (), "critical"),
        ("Høj prioritet", (), "high"),
    ],
)
def test_priority_keywords(subject: str, tags: tuple[str, ...], expected: str) -> None:
    """Whole-word, case-insensitive keywords in subject or tags; the highest level wins."""
    assert detect_priority(subject, tags, "normal")[0] == expected


def test_default_priority_when_no_keyword() -> None:
    """Without a keyword the configured default applies."""
    assert detect_priority("Printer jam", (), "high") == ("high", "no priority keyword; default")


def test_tags_from_visible_text_only_feed_priority() -> None:
    """Spec example 3: '#critical #server' in the body makes a critical ticket."""
    found = extract("Production issue", "Production server is down #critical #server", "normal")
    assert found.tags == ("critical", "server")
    assert found.priority == "critical"


@pytest.mark.parametrize("unit", ["#a", " #", "#" * 7 + "x", "#æ-"])
def test_hashtag_scan_is_linear(unit: str) -> None:
    """A megabyte of hostile hashtags costs about ten times 100 KB (T11)."""
    assert_linear(extract_tags, unit * (100_000 // len(unit)), unit * (1_000_000 // len(unit)))
