"""Per-source figures of the compat32 differential (for docs/corpus.md).

    .venv/bin/python -m tests.corpus.differential_report [--details] [--json FILE]

Prints, per corpus source: messages, parsed, messages with a sender (`from_` set), messages
that differ from compat32 on any aspect, and the count per aspect. Run it with another
checkout's interpreter (e.g. main's .venv) to measure that code: it uses only fields that
ParsedEmail has always had.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from tests.corpus.corpus import Corpus, corpus_root
from tests.corpus.differential import ASPECTS, compare, has_sender


def main(argv: list[str]) -> int:
    corpus = Corpus(corpus_root())
    details = "--details" in argv
    dump: dict[str, dict[str, list[str]]] = {}
    header = ["source", "messages", "parsed", "sender", "differ", *ASPECTS]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for source in corpus.sources():
        messages = parsed = senders = differ = 0
        per_aspect: Counter[str] = Counter()
        for label, raw in corpus.raw_messages(source):
            messages += 1
            diff = compare(raw)
            if diff is None:
                continue
            parsed += 1
            senders += bool(has_sender(raw))
            if diff:
                differ += 1
                per_aspect.update(list(diff))
                dump.setdefault(source, {})[label] = sorted(diff)
                if details:
                    print(source, label, diff, file=sys.stderr)
        if not messages:
            continue
        row = [source, messages, parsed, senders, differ, *(per_aspect[a] for a in ASPECTS)]
        print("| " + " | ".join(str(v) for v in row) + " |")
    if "--json" in argv:
        with open(argv[argv.index("--json") + 1], "w") as fh:
            json.dump(dump, fh, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
