"""Tag normalisation: lowercase words of letters, digits, '-' and '_', at most ten a ticket."""

from __future__ import annotations

import pytest

from hubdesk.errors import ValidationFailed
from hubdesk.tickets.tags import MAX_TAG_ITEMS, MAX_TAG_LENGTH, normalize_tag, normalize_tags
from tests.support.timing import assert_linear


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


def test_a_huge_tag_list_is_refused_before_it_is_read() -> None:
    """More than MAX_TAG_ITEMS raw items are refused naming the cap of ten tags, and the cost
    does not grow with the list: 100,000 distinct tags cost about what 10,000 do (the old
    code compared each tag against a list first, which grew quadratically)."""
    with pytest.raises(ValidationFailed, match="at most 10 tags"):
        normalize_tags([f"t{i}" for i in range(MAX_TAG_ITEMS + 1)])

    def refused(items: list[str]) -> None:
        with pytest.raises(ValidationFailed):
            normalize_tags(items)

    assert_linear(refused, [f"tag{i}" for i in range(10_000)], [f"tag{i}" for i in range(100_000)])


def test_many_duplicates_within_the_item_cap_still_count_once() -> None:
    """Duplicates up to the item cap are collapsed with a set, not refused."""
    assert normalize_tags(["#VIP"] * MAX_TAG_ITEMS) == ["vip"]
