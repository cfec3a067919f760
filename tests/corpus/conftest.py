"""The corpus fixture: the shared corpus read in place, or a clear skip when it is absent."""

from __future__ import annotations

import pytest

from tests.corpus.corpus import Corpus, corpus_root


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    root = corpus_root()
    if not root.is_dir():
        pytest.skip(
            f"real-world corpus not found at {root}: set HUBDESK_CORPUS_DIR to the shared "
            "corpus folder (CI always has it)"
        )
    return Corpus(root)
