"""Tag normalisation: lowercase words of letters, digits, '-' and '_', at most ten a ticket."""

from __future__ import annotations

import pytest

from hubdesk.errors import ValidationFailed
from hubdesk.tickets.tags import MAX_TAG_LENGTH, normalize_tag, normalize_tags


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("#Billing ", "billing"),
        ("billing", "billing"),
        ("  #VPN-issue", "vpn-issue"),
        ("snake_case", "snake_case"),
        ("#Fakturering", "fakturering"),
        ("ÆØÅ-fejl", "æøå-fejl"),
        ("v2", "v2"),
        ("x" * MAX_TAG_LENGTH, "x" * MAX_TAG_LENGTH),
    ],
)
def test_normalize_tag(raw: str, tag: str) -> None:
    """Whitespace and a leading '#' go, letters are lowercased (Danish too)."""
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "#", "two words", "semi;colon", "a/b", "<script>", "x" * (MAX_TAG_LENGTH + 1)],
)
def test_unusable_tags_are_refused(raw: str) -> None:
    """Empty tags, spaces, punctuation and overlong tags raise ValidationFailed saying what a
    tag may hold."""
    with pytest.raises(ValidationFailed, match="letters, digits"):
        normalize_tag(raw)


def test_tags_are_deduplicated_in_first_order() -> None:
    """Duplicates after normalisation collapse, keeping the first occurrence's position."""
    assert normalize_tags(["#VIP", "billing", "vip", "#Billing", "new"]) == [
        "vip",
        "billing",
        "new",
    ]


def test_at_most_ten_distinct_tags() -> None:
    """Ten distinct tags are fine (duplicates do not count); eleven are refused."""
    assert len(normalize_tags([f"t{i}" for i in range(10)] + ["T0", "#t1"])) == 10
    with pytest.raises(ValidationFailed, match="at most 10"):
        normalize_tags([f"t{i}" for i in range(11)])
