"""JSON is read as the json module reads it: integers of any size stay exact integers, on the
fast path (msgspec) as on the careful one."""

from __future__ import annotations

import json

import pytest

from isolation import yamlio
from isolation.snapshot import load_snapshot
from isolation.yamlio import load_json

BIG = [2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30, -(10**40), 2**64 + 1]


@pytest.mark.parametrize("number", BIG)
def test_integers_beyond_64_bits_stay_exact(number):
    text = json.dumps({"spec": {"replicas": number, "ports": [1, number]}})
    for given in (text, text.encode()):
        read = load_json(given)
        assert read == json.loads(text)
        assert type(read["spec"]["replicas"]) is int and read["spec"]["replicas"] == number
    assert yamlio._fast_json(text) is not yamlio._NO_FAST_JSON   # read on the fast path


def test_a_snapshot_keeps_a_huge_port_number_exactly():
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"containers": [{"name": "web", "ports": [{"containerPort": 10**25}]}]}}
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod]}, indent=4)
    snapshot = load_snapshot(text.encode(), engine_fields_only=True)
    assert snapshot.pods[0]["spec"]["containers"][0]["ports"][0]["containerPort"] == 10**25


@pytest.mark.parametrize("text", ['{"a": NaN}', "[1e400, -1e400]", '["\\ud800"]', "[1.5, -0.0]"])
def test_what_the_fast_path_does_not_read_reads_as_the_json_module_reads_it(text):
    assert json.dumps(load_json(text)) == json.dumps(json.loads(text))
