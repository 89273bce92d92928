"""A snapshot read partly by a forked process (`load_snapshot(meanwhile=...)`) is the snapshot
read in one: the same objects, the same refusals, `meanwhile` run exactly once."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from isolation import fork
from isolation import snapshot as snapshot_module
from isolation.snapshot import SnapshotError, load_snapshot
from isolation.yamlfast import fast_load_documents, fast_load_items, split_list
from tests.helpers import kubectl_snapshot_generator


@pytest.fixture(autouse=True)
def _forking(monkeypatch):
    """The forked path is taken wherever fork exists, one core or many (it only pays on two)."""
    assert hasattr(os, "fork")
    monkeypatch.setattr(snapshot_module, "can_fork", lambda: True)


@pytest.fixture(scope="module")
def generated():
    data = kubectl_snapshot_generator().snapshot_list(30)
    text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     default_flow_style=False, sort_keys=True, width=80)
    return text, json.dumps(data, indent=4)


@pytest.fixture
def forking(monkeypatch):
    """Fork for any size, the parent reading the first items beyond 20 KB."""
    monkeypatch.setattr(snapshot_module, "FORK_BYTES", 1)
    monkeypatch.setattr(snapshot_module, "JSON_FORK_BYTES", 1)
    monkeypatch.setattr(snapshot_module, "PARENT_HEAD_START_BYTES", -20_000)
    monkeypatch.setattr(snapshot_module, "JSON_PARENT_HEAD_START_BYTES", -20_000)


def _read(text, **options):
    calls = []
    snapshot = load_snapshot(text, engine_fields_only=True,
                             meanwhile=lambda: calls.append(os.getpid()), **options)
    return snapshot, calls


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_snapshot_read_in_two_processes_is_the_one_read_in_one(generated, forking, fmt):
    text = generated[0] if fmt == "yaml" else generated[1]
    snapshot, calls = _read(text.encode())
    assert snapshot == load_snapshot(text, engine_fields_only=True)
    assert calls == [os.getpid()]


def test_meanwhile_runs_once_when_nothing_is_forked(generated):
    snapshot, calls = _read(generated[0])   # smaller than FORK_BYTES
    assert calls == [os.getpid()] and len(snapshot.pods) == 30


def test_a_child_that_fails_leaves_the_reading_to_the_parent(generated, forking, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no")

    monkeypatch.setattr(snapshot_module, "fast_load_items", broken)
    snapshot, calls = _read(generated[0])
    assert snapshot == load_snapshot(generated[0], engine_fields_only=True)
    assert len(calls) == 1


def test_refusals_are_the_same_in_two_processes(generated, forking):
    duplicate = generated[0].replace("    podIP: ", "    podIP: 10.0.0.1\n    podIP: ", 1)
    broken_json = generated[1].replace('"kind": "Pod"', '"kind": "Pod", "kind": "Pod"', 1)
    for text in (duplicate, broken_json):
        with pytest.raises(SnapshotError) as forked:
            _read(text)
        with pytest.raises(SnapshotError) as alone:
            load_snapshot(text, engine_fields_only=True)
        assert str(forked.value) == str(alone.value)


def _halves_read_as_whole(text, first_bytes):
    parts = split_list(text, first_bytes)
    if parts is None:
        return None
    head, items = parts
    (index, data), = fast_load_documents(head)
    return [(index, {**data, "items": (data["items"] or []) + fast_load_items(items)})]


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nitems:\n- a: 1\n- b: |\n    x\n\n    y\n- c: 3\nkind: List\n",
    "apiVersion: v1\nitems:\n- a: 1\n-\n- c: 3\n\nkind: List\n",
    "apiVersion: v1\nitems:\n- a: 1\n- b: 2\n- c: long text\n    folded\n",
    "kind: List\nitems:\n- a: 1\n- b: 2\nmetadata:\n  x: y\n",
])
@pytest.mark.parametrize("first_bytes", [0, 3, 12])
def test_a_list_split_in_two_reads_as_the_whole(text, first_bytes):
    halves = _halves_read_as_whole(text, first_bytes)
    assert halves == fast_load_documents(text) or halves is None and first_bytes


def test_only_one_document_lists_are_split():
    assert split_list("a: 1\n---\nitems:\n- a: 1\n- b: 2\n", 0) is None
    assert split_list("kind: Pod\nmetadata:\n  name: p\n", 0) is None


def test_a_childs_result_and_failure_come_back():
    assert fork.in_child(lambda: {"a": [1, "b", None]}, lambda: 7) == ({"a": [1, "b", None]}, 7)
    result, here = fork.in_child(lambda: 1 / 0, lambda: "here")
    assert result is fork.FAILED and here == "here"
    with pytest.raises(ValueError, match="meanwhile"):
        fork.in_child(lambda: "x" * 1_000_000, lambda: int("meanwhile"))
