"""Compiled priority keywords (pure): the spec's defaults, an admin's words with regex
characters, body-only words, and the highest level winning."""

from __future__ import annotations

from hubdesk.intake.extract import SPEC, Keywords, detect_priority, extract


def test_the_spec_defaults_are_the_default_set() -> None:
    assert detect_priority("Serveren er NEDE", (), "normal") == (
        "critical",
        "keyword 'nede' in subject",
    )
    assert detect_priority("Et spørgsmål", (), "normal", SPEC)[0] == "low"
    assert detect_priority("Downtime report", (), "normal")[0] == "normal"  # whole words


def test_admin_words_scopes_and_levels() -> None:
    words = Keywords.build({"high": ["c++", "brænder"]}, {"critical": ["asap"], "low": ["fyi"]})
    assert detect_priority("c++ build broken", (), "normal", words) == (
        "high",
        "keyword 'c++' in subject",
    )
    assert detect_priority("cxx build", (), "normal", words)[0] == "normal"
    found = extract("BRÆNDER", "fyi: please fix asap", "normal", words)
    assert (found.priority, found.priority_reason) == ("critical", "keyword 'asap' in body")
    assert extract("asap", "nothing here", "normal", words).priority == "normal"
    assert Keywords.build({}).levels == ()
    assert detect_priority("urgent", (), "low", Keywords.build({})) == (
        "low",
        "no priority keyword; default",
    )
