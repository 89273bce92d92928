"""A `kubectl get -o json` List read in two processes (`isolation.yamlfast_json`) is the List
read in one, wherever it is cut; what does not split cleanly is read whole."""

from __future__ import annotations

import json
import os

import pytest

from isolation import snapshot as snapshot_module
from isolation.snapshot import SnapshotError, load_snapshot
from isolation.yamlfast_json import JsonListSplit, joined, rest_items
from isolation.yamlio import load_json
from tests.helpers import kubectl_snapshot_generator


@pytest.fixture(scope="module")
def listed():
    return json.dumps(kubectl_snapshot_generator().snapshot_list(12), indent=4).encode()


@pytest.fixture
def forking(monkeypatch):
    """Fork for any size, the List cut `cut_at` bytes in (set by the test)."""
    assert hasattr(os, "fork")
    monkeypatch.setattr(snapshot_module, "can_fork", lambda: True)
    monkeypatch.setattr(snapshot_module, "JSON_FORK_BYTES", 1)

    def cut_at(offset):
        # (len - JSON_PARENT_HEAD_START_BYTES) // 2 == offset
        monkeypatch.setattr(snapshot_module, "JSON_PARENT_HEAD_START_BYTES", -2 * offset)
    return cut_at


def _forked(text):
    calls = []
    snapshot = load_snapshot(text, engine_fields_only=True, meanwhile=lambda: calls.append(1))
    assert calls == [1]
    return snapshot


def _read_in_two(text, first_bytes):
    split = JsonListSplit.of(text, first_bytes)
    if split is None:
        return None
    items = rest_items(load_json(split.rest()))
    return joined(load_json(split.head()), items, load_json(split.tail()))


def test_a_list_cut_after_any_item_reads_as_the_whole(listed):
    whole = load_json(listed)
    ends = [at for at in range(len(listed)) if listed.startswith(b"\n        },\n", at)]
    assert len(ends) == len(whole["items"]) - 1
    for at in [0, *ends]:
        assert _read_in_two(listed, at) == whole
        assert _read_in_two(listed.decode(), at) == whole
    assert JsonListSplit.of(listed, ends[-1] + 1) is None   # nothing after the last item


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.7, 0.95])
def test_a_snapshot_read_in_two_processes_is_the_one_read_in_one(listed, forking, fraction):
    forking(int(len(listed) * fraction))
    assert _forked(listed) == load_snapshot(listed, engine_fields_only=True)


# The cut pattern inside an item (an array of mappings, indented as kubectl indents items):
# cut there, the head does not read (more than two values are open), or reads with a key
# other than `items` last (the array open at the cut is another key's).
DECOYS = [b"""{
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {"kind": "Pod", "metadata": {"name": "a", "namespace": "n"}, "x": [
        {
        },
        {
        }
    ]}]}
""", b"""{
    "apiVersion": "v1",
    "kind": "List",
    "items": [
    ],
    "other": [
        {
        },
        {
        }
    ]
}
"""]


@pytest.mark.parametrize("decoy", DECOYS)
def test_a_cut_that_is_not_between_items_is_found_out(forking, decoy):
    forking(0)
    split = JsonListSplit.of(decoy, 0)
    assert split is not None   # the pattern is there...
    try:
        head = load_json(split.head())
    except ValueError:
        head = None
    if head is not None:
        assert joined(head, rest_items(load_json(split.rest())), load_json(split.tail())) is None
    assert _forked(decoy) == load_snapshot(decoy, engine_fields_only=True)   # ...read whole


def test_a_key_in_the_head_and_in_the_tail_is_refused_as_a_duplicate(listed, forking):
    forking(len(listed) // 2)
    text = listed.replace(b'{\n    "apiVersion": "v1",', b'{\n    "metadata": {},', 1)
    with pytest.raises(SnapshotError, match="duplicate key"):
        _forked(text)


@pytest.mark.parametrize("fraction", [0.1, 0.9])
def test_refusals_are_the_same_whichever_part_holds_the_fault(listed, forking, fraction):
    forking(int(len(listed) * fraction))
    first_pod = listed.index(b'"kind": "Pod"')
    last_pod = listed.rindex(b'"kind": "Pod"')
    for at in (first_pod, last_pod):
        text = listed[:at] + b'"kind": "Pod", ' + listed[at:]
        with pytest.raises(SnapshotError) as forked:
            _forked(text)
        with pytest.raises(SnapshotError) as alone:
            load_snapshot(text, engine_fields_only=True)
        assert str(forked.value) == str(alone.value)
        assert "duplicate key" in str(alone.value)
