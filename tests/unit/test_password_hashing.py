"""The product's password hash: argon2id at argon2-cffi's default cost (the tests run with a
cheaper hasher, `tests.support.passwords`; this checks the one users get)."""

from __future__ import annotations

import pytest

from hubdesk.users.secrets import hash_password, verify_password
from tests.support.passwords import PRODUCTION_HASHER, TEST_HASHER


def test_passwords_are_hashed_with_argon2id_at_the_default_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("hubdesk.users.secrets._hasher", PRODUCTION_HASHER)
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse battery!")
    assert hash_password("correct horse battery") != stored  # salted


def test_the_test_hasher_is_only_cheaper() -> None:
    """Same algorithm and version; hashes of either verify with the other (the cost is
    read from the stored hash), so the tests' users behave as real ones."""
    cheap = TEST_HASHER.hash("pw")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$"), cheap
    assert PRODUCTION_HASHER.verify(cheap, "pw")
    assert TEST_HASHER.type == PRODUCTION_HASHER.type
