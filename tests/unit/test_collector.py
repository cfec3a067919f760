"""`hubdesk.collector.pace`: a process that builds a runtime runs young collections at most
every `YOUNG_THRESHOLD` allocations, keeps a larger threshold (or a disabled collector) it
set itself, freezes what it holds the first time (once a process), and still collects
cyclic garbage."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubdesk import collector
from hubdesk.config import Settings
from hubdesk.runtime import Runtime


@pytest.fixture(autouse=True)
def _kept_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_young_threshold_is_raised_and_the_older_ones_kept() -> None:
    gc.set_threshold(700, 7, 9)
    collector.pace()
    assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, 7, 9)


@pytest.mark.parametrize("young", [0, 20_000])
def test_a_disabled_or_larger_threshold_is_left_alone(young: int) -> None:
    gc.set_threshold(young, 10, 10)
    collector.pace()
    assert gc.get_threshold() == (young, 10, 10)


def test_the_first_pace_freezes_the_heap_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "_frozen", False)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    collector.pace()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    kept = [[n] for n in range(1000)]
    collector.pace()
    # frozen objects may be freed meanwhile; a second freeze would add the lists
    assert gc.get_freeze_count() <= frozen
    assert len(kept) == 1000


def test_cyclic_garbage_is_still_collected_on_its_own() -> None:
    """Allocations alone (no explicit `gc.collect`) free a cycle once the threshold is
    passed."""
    collector.pace()
    gc.collect()

    class Node:
        pass

    node = Node()
    node.self = node  # type: ignore[attr-defined]
    gone = weakref.ref(node)
    del node
    keep: list[list[int]] = [[] for _ in range(collector.YOUNG_THRESHOLD * 3)]
    assert gone() is None
    assert len(keep) == collector.YOUNG_THRESHOLD * 3


def test_building_a_runtime_paces_the_collector(tmp_path: Path) -> None:
    gc.set_threshold(700, 10, 10)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/paced.db",
        data_dir=tmp_path / "data",
        secret_key="k" * 40,
        _env_file=None,
    )
    built = Runtime.build(settings)
    try:
        assert gc.get_threshold()[0] == collector.YOUNG_THRESHOLD
    finally:
        built.close()
