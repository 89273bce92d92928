import gc
import weakref

import pytest

from isolation import collector
from isolation.collector import PROMOTED_FROM, collector_paused


class _Node:
    """A tracked object that can be part of a reference cycle and be watched by a weakref."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _large_build() -> list:
    """Well past PROMOTED_FROM objects (some the pause frees meanwhile are counted off)."""
    return [[index] for index in range(2 * PROMOTED_FROM)]


def _cycle() -> weakref.ref:
    """A reference cycle that is garbage at once (only a collection frees it)."""
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.fixture
def due_at_once(monkeypatch):
    """A full collection due as soon as any object was moved unwalked."""
    monkeypatch.setattr(collector, "FULL_FLOOR", 1)
    monkeypatch.setattr(collector, "_held", 0)


def test_no_collection_runs_inside_and_the_collector_runs_again_after():
    collections = []

    def seen(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        with collector_paused():
            assert not gc.isenabled()
            kept = [[index] for index in range(PROMOTED_FROM // 2)]
            inside = list(collections)
        assert inside == []
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(seen)
    assert len(kept) == PROMOTED_FROM // 2


def test_what_a_large_build_kept_is_in_the_oldest_generation_unwalked():
    with collector_paused():
        kept = [{"rule": index, "ports": [index]} for index in range(PROMOTED_FROM)]
    oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    young = {id(obj) for obj in gc.get_objects(generation=0)}
    assert id(kept) in oldest and id(kept[0]) in oldest and id(kept[-1]["ports"]) in oldest
    assert id(kept) not in young


def test_what_a_small_build_kept_is_left_to_the_young_collections():
    gc.collect()
    with collector_paused():
        kept = [[index] for index in range(100)]
    assert id(kept) not in {id(obj) for obj in gc.get_objects(generation=2)}


def test_a_cycle_moved_unwalked_is_freed_by_the_full_collection_that_makes_due(due_at_once):
    with collector_paused():
        watched = _cycle()
        built = _large_build()
    assert watched() is None   # no gc.collect() here: the pause ran the one due
    assert built


def test_no_full_collection_is_due_below_the_floor(monkeypatch):
    monkeypatch.setattr(collector, "FULL_FLOOR", 10 * PROMOTED_FROM)
    monkeypatch.setattr(collector, "_held", 0)
    gc.collect()
    with collector_paused():
        watched = _cycle()
        built = _large_build()
    assert watched() is not None   # moved to the oldest generation, its collection not due
    gc.collect()
    assert watched() is None
    assert built


def test_in_a_web_request_the_due_collection_waits_for_its_end(due_at_once):
    collector.request_begins()
    try:
        with collector_paused():
            watched = _cycle()
            built = _large_build()
        assert watched() is not None   # the response is not kept waiting for it
    finally:
        collector.request_ends()
    assert watched() is None
    assert built


def test_a_process_that_froze_its_objects_keeps_what_it_builds_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            built = _large_build()
        assert gc.get_freeze_count() >= frozen + PROMOTED_FROM   # nothing unfrozen
        assert id(built) not in {id(obj) for obj in gc.get_objects(generation=2)}
    finally:
        gc.unfreeze()


def test_nested_and_outer_pauses_are_one():
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()   # only the pause that paused the collector resumes it
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()   # a caller's own pause is left as it was
    finally:
        gc.enable()


def test_the_collector_runs_again_after_an_error():
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("bad input")
    assert gc.isenabled()
