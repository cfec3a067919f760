"""The corpus fixture: the shared corpus read in place, or a clear skip when it is absent.

With HUBDESK_REQUIRE_CORPUS=1 (set by CI) a missing corpus fails the tests that need it
instead of skipping them, so CI never passes without having read the real-world mail.
"""

from __future__ import annotations

import os

import pytest

from tests.corpus.corpus import Corpus, corpus_root


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    root = corpus_root()
    if not root.is_dir():
        reason = (
            f"real-world corpus not found at {root}: set HUBDESK_CORPUS_DIR to the shared "
            "corpus folder"
        )
        if os.environ.get("HUBDESK_REQUIRE_CORPUS") == "1":
            pytest.fail(f"HUBDESK_REQUIRE_CORPUS=1 but {reason}")
        pytest.skip(f"{reason} (CI sets HUBDESK_REQUIRE_CORPUS=1 and fails instead)")
    return Corpus(root)
