"""Complexity checks that survive a noisy shared machine.

A linearity check compares the CPU time of an input against one ten times smaller, taking
the best of several runs. Linear code costs about 10x; quadratic code about 100x, so a bound
of 30x separates them with room for noise. A comparison check holds a hostile input against
a benign one of the same size. These are properties, not speed targets: absolute CPU figures
live in bench/ and in tests marked `@pytest.mark.long` (`make test-long`), never in `make test`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

LINEAR_BOUND = 30.0
# Timer resolution and scheduling noise on tiny inputs: ratios of a few milliseconds mean
# nothing, so this much is always allowed on top of the ratio.
NOISE_SECONDS = 0.02


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU time (process time, not wall time) that `fn()` took."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def best_cpu_seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    """The smallest CPU time of `repeat` runs (for ratios: noise only adds)."""
    return min(cpu_seconds(fn) for _ in range(repeat))


def assert_linear(
    function: Callable[[Any], Any], small: Any, large: Any, *, repeat: int = 3
) -> None:
    """`large` is ten times `small`; its cost must stay within LINEAR_BOUND times."""
    small_cost = best_cpu_seconds(lambda: function(small), repeat)
    large_cost = best_cpu_seconds(lambda: function(large), repeat)
    assert large_cost <= LINEAR_BOUND * small_cost + NOISE_SECONDS, (small_cost, large_cost)


def assert_comparable(
    function: Callable[[Any], Any], benign: Any, hostile: Any, *, repeat: int = 3
) -> None:
    """`hostile` (a fixed pathological input) costs at most LINEAR_BOUND times `benign`
    (an ordinary input of about the same size): no blow-up, whatever the machine's speed."""
    benign_cost = best_cpu_seconds(lambda: function(benign), repeat)
    hostile_cost = best_cpu_seconds(lambda: function(hostile), repeat)
    assert hostile_cost <= LINEAR_BOUND * benign_cost + NOISE_SECONDS, (benign_cost, hostile_cost)
