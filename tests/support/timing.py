"""Complexity checks that survive a noisy shared machine.

A linearity check compares the CPU time of an input against one ten times smaller, taking
the best of several runs. Linear code costs about 10x; quadratic code about 100x, so a bound
of 30x separates them with room for noise. These are properties, not speed targets (speed
targets live in bench/).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

LINEAR_BOUND = 30.0


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU time (process time, not wall time) that `fn()` took."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def best_cpu_seconds(fn: Callable[[], object], repeat: int = 3) -> float:
    """The smallest CPU time of `repeat` runs (for ratios: noise only adds)."""
    return min(cpu_seconds(fn) for _ in range(repeat))


def assert_linear(function: Callable[[Any], Any], small: Any, large: Any) -> None:
    """`large` is ten times `small`; its cost must stay within LINEAR_BOUND times."""
    small_cost = best_cpu_seconds(lambda: function(small))
    large_cost = best_cpu_seconds(lambda: function(large))
    assert large_cost <= LINEAR_BOUND * small_cost + 0.02, (small_cost, large_cost)
