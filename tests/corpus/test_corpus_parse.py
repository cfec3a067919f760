"""Every real-world message parses: a ParsedEmail or a deliberate rejection, never an
exception, never `parser_error`, each within the CPU budget (RELIABILITY T01/T08 on the
shared corpus; the absolute CPU figures are the `long` test, make test-long)."""

from __future__ import annotations

import time

import pytest

from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from tests.corpus.corpus import Corpus

CPU_BUDGET_SECONDS = 2.0

# Messages built to exceed a budget, and the reason they are (rightly) rejected.
DELIBERATE_REJECTIONS = {
    ("flanker", "tests/fixtures/messages/long-header.eml"): "header_size",  # 200 KB Subject
    ("flanker", "tests/fixtures/messages/enclosed-endless.eml"): "mime_parts",  # endless nesting
}

SOURCES = [
    ("cpython", 48),
    ("django-helpdesk", 6),
    ("flanker", 48),
    ("flufl-bounce", 117),
    ("mail-gem", 104),
    ("mail-parser", 22),
    ("mime4j", 82 + 5),  # 82 files and an mbox of 5 messages
    ("rt", 60),
    ("spamassassin-train", 3025),
    ("talon", 13),
]


@pytest.mark.parametrize(("source", "count"), SOURCES)
def test_every_corpus_message_parses(corpus: Corpus, source: str, count: int) -> None:
    """All raw messages of the source parse; rejections are the deliberate ones only."""
    seen = 0
    for label, raw in corpus.raw_messages(source):
        seen += 1
        result = parse_email(raw)
        if isinstance(result, ParsedEmail):
            assert (source, label) not in DELIBERATE_REJECTIONS, label
            continue
        assert result.reason != "parser_error", (label, result.detail)
        assert DELIBERATE_REJECTIONS.get((source, label)) == result.reason, (label, result)
    assert seen == count


@pytest.mark.long
@pytest.mark.parametrize(("source", "count"), SOURCES)
def test_every_corpus_message_parses_within_budget(corpus: Corpus, source: str, count: int) -> None:
    """Absolute figures (make test-long): each message parses within the CPU budget, and
    the 3,025 SpamAssassin messages within a minute in all."""
    started = time.process_time()
    for label, raw in corpus.raw_messages(source):
        before = time.process_time()
        parse_email(raw)
        spent = time.process_time() - before
        assert spent < CPU_BUDGET_SECONDS, (label, spent)
    if source == "spamassassin-train":
        assert time.process_time() - started < 60
