"""Our signed Message-IDs: made, verified, and never forged without the key."""

from __future__ import annotations

from hubdesk.tickets.message_ids import make_message_id, verified_ticket_number

KEY = "k" * 40


def test_round_trip() -> None:
    """An id we made verifies to its ticket number."""
    message_id = make_message_id("TKT-20251215-001", KEY, "support.example.com")
    assert message_id.startswith("<TKT-20251215-001.")
    assert message_id.endswith("@support.example.com>")
    assert verified_ticket_number(message_id, KEY) == "TKT-20251215-001"


def test_other_key_or_tampered_number_fails() -> None:
    """Another key, or a different ticket number with the same MAC, does not verify."""
    message_id = make_message_id("TKT-20251215-001", KEY, "x.example")
    assert verified_ticket_number(message_id, "z" * 40) is None
    forged = message_id.replace("TKT-20251215-001", "TKT-20251215-002")
    assert verified_ticket_number(forged, KEY) is None


def test_spec_style_ids_are_not_ours() -> None:
    """The spec's <TKT-…@domain> form carries no MAC, so it is only a hint."""
    assert verified_ticket_number("<TKT-20251215-001@bmcnetworks.dk>", KEY) is None
    assert verified_ticket_number("garbage", KEY) is None
