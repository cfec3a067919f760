"""Every corpus message against the stdlib's compat32 parser (issue 10).

For each message hubdesk parses (the budget breakers are not fed to the stdlib), the MIME
structure, leaf count, attachment bytes, file names, From/To/Cc addresses, Message-ID and
References are compared (`tests/corpus/differential.py`). Every difference must be listed in
`compat32_differences.tsv` with the reason hubdesk's answer stands (docs/corpus.md explains
each reason); a new difference fails, and so does a listed one that went away.
"""

from __future__ import annotations

from pathlib import Path

from tests.corpus.corpus import Corpus
from tests.corpus.differential import ASPECTS, compare

ALLOW_LIST = Path(__file__).with_name("compat32_differences.tsv")
REASONS = frozenset(
    {
        "address_8bit_decoded",
        "broken_header_continuation",
        "empty_parts_kept",
        "filename_decoded",
        "folded_boundary_parameter",
        "from_fallback_reply_to",
        "from_fallback_return_path",
        "from_fallback_sender",
        "from_refused",
        "from_repaired_multiple_addresses",
        "from_repaired_unbracketed_address",
        "header_read_where_stdlib_lost_it",
        "invalid_address_refused",
        "matches_mime4j_structure",
        "message_id_normalised",
        "message_part_exact_bytes",
        "multipart_without_parts",
        "nested_boundary_reused",
        "root_part_is_body",
        "stdlib_misreads_cte",
        "tnef_unpacked",
    }
)


def _allowed() -> dict[tuple[str, str, str], str]:
    allowed: dict[tuple[str, str, str], str] = {}
    for line in ALLOW_LIST.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        source, label, aspect, reason = line.split("\t")
        assert aspect in ASPECTS, line
        assert reason in REASONS, line
        allowed[(source, label, aspect)] = reason
    return allowed


def test_every_difference_from_compat32_is_listed_with_its_reason(corpus: Corpus) -> None:
    allowed = _allowed()
    found: set[tuple[str, str, str]] = set()
    details: dict[tuple[str, str, str], object] = {}
    compared = 0
    for source in corpus.sources():
        for label, raw in corpus.raw_messages(source):
            diff = compare(raw)
            if diff is None:
                continue
            compared += 1
            for aspect, values in diff.items():
                found.add((source, label, aspect))
                details[(source, label, aspect)] = values
    assert compared > 3_400
    new = sorted(found - set(allowed))
    assert not new, [(key, details[key]) for key in new[:20]]
    stale = sorted(set(allowed) - found)
    assert not stale, f"listed differences that no longer occur (update the list): {stale[:20]}"
