"""Running one function in several spawned processes that start together.

The children are real interpreters (the "spawn" start method, as on macOS and Windows), so
they share nothing with the test process but the database or directory they are pointed at.
A barrier releases them at the same moment to make their work overlap. What each returns
comes back in the order of `args_list`; a child that raised fails the calling test with its
traceback.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import traceback
from collections.abc import Callable, Sequence
from typing import Any

START_TIMEOUT = 60.0


def run_together(
    target: Callable[..., Any], args_list: Sequence[tuple[Any, ...]], *, timeout: float = 120.0
) -> list[Any]:
    """Run `target(*args)` for every `args` in its own process, all released at once."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args_list))
    results: Any = context.Queue()
    processes = [
        context.Process(target=_child, args=(target, barrier, results, index, args), daemon=True)
        for index, args in enumerate(args_list)
    ]
    for process in processes:
        process.start()
    outcomes: dict[int, tuple[bool, Any]] = {}
    try:
        for _ in processes:
            try:
                index, ok, value = results.get(timeout=timeout)
            except queue_module.Empty:
                raise AssertionError(
                    f"only {len(outcomes)} of {len(processes)} processes reported within "
                    f"{timeout} s"
                ) from None
            outcomes[index] = (ok, value)
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    failures = [value for ok, value in outcomes.values() if not ok]
    assert not failures, "\n".join(failures)
    return [outcomes[index][1] for index in range(len(processes))]


def _child(
    target: Callable[..., Any], barrier: Any, results: Any, index: int, args: tuple[Any, ...]
) -> None:
    try:
        barrier.wait(timeout=START_TIMEOUT)
        results.put((index, True, target(*args)))
    except BaseException:
        results.put((index, False, traceback.format_exc()))
