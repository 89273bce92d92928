import gc
import weakref

import pytest

from isolation.collector import PROMOTED_FROM, collector_paused


class _Node:
    """A tracked object that can be part of a reference cycle and be watched by a weakref."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def test_no_collection_runs_inside_and_the_collector_runs_again_after():
    collections = []

    def seen(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        with collector_paused():
            assert not gc.isenabled()
            kept = [[index] for index in range(50_000)]   # far past the young threshold
        assert collections == []
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(seen)
    assert len(kept) == 50_000


def test_what_a_large_build_kept_is_in_the_oldest_generation_unwalked():
    with collector_paused():
        kept = [{"rule": index, "ports": [index]} for index in range(PROMOTED_FROM)]
    oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    young = {id(obj) for obj in gc.get_objects(generation=0)}
    assert id(kept) in oldest and id(kept[0]) in oldest and id(kept[-1]["ports"]) in oldest
    assert id(kept) not in young


def test_what_a_small_build_kept_stays_young():
    gc.collect()
    with collector_paused():
        kept = [[index] for index in range(100)]
    young = {id(obj) for obj in gc.get_objects(generation=0)}
    assert id(kept) in young and id(kept[-1]) in young


def test_a_cycle_made_inside_is_still_collected_by_a_full_collection():
    with collector_paused():
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        watched = weakref.ref(first)
        built = [[index] for index in range(PROMOTED_FROM)]   # a large build: promoted
    assert gc.get_referrers(first) and id(first) in {id(o) for o in gc.get_objects(2)}
    del built
    del first, second
    assert watched() is not None   # a cycle: reference counting alone never frees it
    gc.collect()
    assert watched() is None


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
