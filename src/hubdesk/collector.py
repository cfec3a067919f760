"""The garbage collector's pace in a process that runs hubdesk.

The mail pipeline allocates container objects by the hundred a mail (ORM objects and their
states, parsed headers, audit dicts), and a bulk batch keeps its objects alive until it
commits. CPython's default first-generation threshold (700 allocations) then runs a young
collection every few dozen objects' worth of a mail, each walking objects that all
survive. With 5,000, a young collection runs about seven times less often; what it finds
is the same (cyclic garbage is still collected, a little later), and at most a few
thousand more objects wait for it.

A full collection walks every object the process holds, and most of them are what it
loaded at start (modules, mappers, settings: 117,000 objects once a runtime is built): one
took 74 ms, and a run of 1,000 mails (`bench.bulk_cpu`) made one (4 % of its CPU).
So the first `pace` of a process also freezes what it holds by then (`gc.freeze`): full
collections walk only what came after. Those objects are still freed when nothing refers
to them; only a reference cycle among them would stay (the start-up heap has none to speak
of: a process builds its runtime once).

Measured with `bench.bulk_cpu --count 1500` (SQLite, interleaved, 2026-12-05 evening):
1.19–1.30 ms of CPU a mail with the default threshold, 1.14–1.15 ms with 5,000 (−6 to
−12 %); 10,000 gave no more. The frozen heap's full collection timed with `gc.callbacks`.
"""

from __future__ import annotations

import gc
from typing import Final

YOUNG_THRESHOLD: Final = 5000


_frozen = False


def pace() -> None:
    """Raise the first generation's threshold to `YOUNG_THRESHOLD` (never lower it: a
    process that set a larger one keeps it; the older generations keep theirs), and, the
    first time in a process, freeze what it holds by then (its modules, mappers and
    settings) out of the full collections."""
    global _frozen
    young, middle, old = gc.get_threshold()
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if not _frozen:
        _frozen = True
        gc.freeze()
